/*
 * course_conv: the convolution kernels of the course's native addon (compiled into
 * build/native/course_gemm.node together with course_gemm.c by build.sh; registered by
 * course_conv_exports(), called from course_gemm.c's Init). They work on the tfjs wasm heap like
 * the rest of the addon, and serve lib/core/conv.ts through lib/core/conv-kernels.ts when the
 * native kernels are on; conv.ts's composed slices/concat/maximum path is the same maths.
 *
 * All tensors are float32 NHWC: x [B, H, W, C]; a k×k window with stride s and zero padding p
 * gives H' × W' outputs, window (oy, ox) covering rows oy·s − p + i and columns ox·s − p + j.
 *
 * conv(heap, op, offsets[], sizes[]), offsets in bytes, sizes = [B, H, W, C, k, s, p, H', W']:
 *   op 0 im2col    x → cols [B·H'·W', k·k·C], columns ordered (i, j, c); cells outside x are 0
 *   op 1 col2im    dcols → dx [B, H, W, C]: the adjoint of im2col (each column entry added back
 *                  to the cell it was copied from)
 *   op 2 maxpool   x → y [B, H', W', C] and arg [B, H', W', C] (int32: the flat index into x of
 *                  the first maximal cell in window order; −1 if the window has no cell of x).
 *                  Cells outside x never win (−∞ padding, as PyTorch's MaxPool2d); NaN wins.
 *   op 3 maxpool backward  dy, arg → dx [B, H, W, C]: dx[arg[o]] += dy[o]
 * and the ReLU between a convolution and its pooling, sizes = [n]:
 *   op 4 relu      x → y = x > 0 ? x : 0 (−0 → +0, NaN stays NaN, as tfjs's wasm kernel)
 *   op 5 relu backward  dy, x → dx = dy · step(x), step(x) = x > 0 ? 1 : 0 (NaN for NaN, as tfjs's Step)
 * Every loop over channels is contiguous and vectorised by gcc (-O3 -fopenmp-simd); the work is
 * split by image (ReLU: by 32 K floats) over course_gemm.c's kernel threads, the same numbers for
 * any thread count.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>

#define CONV_VERSION 3

typedef struct { int64_t B, H, W, C, k, s, p, oh, ow; } Geom;

/* course_gemm.c's parallel-for: fn(ctx, lo, hi, chunk) over [0, n) in nChunks chunks on the kernel
 * threads; the chunking depends on n only, so results never depend on the thread count. */
typedef void (*RangeFn)(const void* ctx, int64_t lo, int64_t hi, int64_t chunk);
void course_parallel_for(RangeFn fn, const void* ctx, int64_t n, uint32_t nChunks);

/* The window kernels below each handle images [lo, hi): every image's output (and, backward, its
 * dx) is written by one chunk only. */
typedef struct { const void* in; const void* in2; void* out; void* out2; const Geom* g; } Job;

/* Chunks of the batch with ≥ ~64 K floats each (at most 64 and at most B). */
static uint32_t imageChunks(const Geom* g) {
  const int64_t per = g->H * g->W * g->C > 0 ? g->H * g->W * g->C : 1;
  int64_t imgs = (65536 + per - 1) / per, c = g->B / (imgs > 0 ? imgs : 1);
  return (uint32_t)(c < 1 ? 1 : c > 64 ? 64 : c);
}

static void im2col(const void* ctx, int64_t lo, int64_t hi, int64_t chunk) {
  const Job* J = (const Job*)ctx;
  const Geom* g = J->g;
  const float* x = (const float*)J->in;
  float* cols = (float*)J->out;
  const int64_t C = g->C, k = g->k, row = k * k * C;
  (void)chunk;
  for (int64_t b = lo; b < hi; b++)
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox = 0; ox < g->ow; ox++) {
        float* out = cols + ((b * g->oh + oy) * g->ow + ox) * row;
        for (int64_t i = 0; i < k; i++) {
          const int64_t iy = oy * g->s - g->p + i;
          for (int64_t j = 0; j < k; j++, out += C) {
            const int64_t ix = ox * g->s - g->p + j;
            if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W) memset(out, 0, (size_t)C * 4);
            else memcpy(out, x + ((b * g->H + iy) * g->W + ix) * C, (size_t)C * 4);
          }
        }
      }
}

static void col2im(const void* ctx, int64_t lo, int64_t hi, int64_t chunk) {
  const Job* J = (const Job*)ctx;
  const Geom* g = J->g;
  const float* dcols = (const float*)J->in;
  float* dx = (float*)J->out;
  const int64_t C = g->C, k = g->k, row = k * k * C, img = g->H * g->W * C;
  (void)chunk;
  memset(dx + lo * img, 0, (size_t)((hi - lo) * img) * 4);
  for (int64_t b = lo; b < hi; b++)
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox = 0; ox < g->ow; ox++) {
        const float* in = dcols + ((b * g->oh + oy) * g->ow + ox) * row;
        for (int64_t i = 0; i < k; i++) {
          const int64_t iy = oy * g->s - g->p + i;
          for (int64_t j = 0; j < k; j++, in += C) {
            const int64_t ix = ox * g->s - g->p + j;
            if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W) continue;
            float* d = dx + ((b * g->H + iy) * g->W + ix) * C;
#pragma omp simd
            for (int64_t c = 0; c < C; c++) d[c] += in[c];
          }
        }
      }
}

static void maxpool_fwd(const void* ctx, int64_t lo, int64_t hi, int64_t chunk) {
  const Job* J = (const Job*)ctx;
  const Geom* g = J->g;
  const float* x = (const float*)J->in;
  float* y = (float*)J->out;
  int32_t* arg = (int32_t*)J->out2;
  const int64_t C = g->C;
  (void)chunk;
  for (int64_t b = lo; b < hi; b++)
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox = 0; ox < g->ow; ox++) {
        const int64_t o = ((b * g->oh + oy) * g->ow + ox) * C;
        float* yo = y + o;
        int32_t* ao = arg + o;
        for (int64_t c = 0; c < C; c++) { yo[c] = -__builtin_inff(); ao[c] = -1; }
        for (int64_t i = 0; i < g->k; i++) {
          const int64_t iy = oy * g->s - g->p + i;
          if (iy < 0 || iy >= g->H) continue;
          for (int64_t j = 0; j < g->k; j++) {
            const int64_t ix = ox * g->s - g->p + j;
            if (ix < 0 || ix >= g->W) continue;
            const int64_t base = ((b * g->H + iy) * g->W + ix) * C;
            const float* xi = x + base;
#pragma omp simd
            for (int64_t c = 0; c < C; c++) {
              const float v = xi[c];
              /* first maximum wins (strict >), NaN wins (as PyTorch); an unset cell (arg −1) takes any value */
              const int take = v > yo[c] || v != v || ao[c] < 0;
              const int keepNan = yo[c] != yo[c];
              yo[c] = take && !keepNan ? v : yo[c];
              ao[c] = take && !keepNan ? (int32_t)(base + c) : ao[c];
            }
          }
        }
      }
}

/* dx of images [lo, hi): their outputs' argmax indices all point inside their own image */
static void maxpool_bwd(const void* ctx, int64_t lo, int64_t hi, int64_t chunk) {
  const Job* J = (const Job*)ctx;
  const Geom* g = J->g;
  const float* dy = (const float*)J->in;
  const int32_t* arg = (const int32_t*)J->in2;
  float* dx = (float*)J->out;
  const int64_t img = g->H * g->W * g->C, outImg = g->oh * g->ow * g->C;
  (void)chunk;
  memset(dx + lo * img, 0, (size_t)((hi - lo) * img) * 4);
  for (int64_t o = lo * outImg; o < hi * outImg; o++) {
    const int32_t a = arg[o];
    if (a >= lo * img && a < hi * img) dx[a] += dy[o];
  }
}

static void relu_fwd(const void* ctx, int64_t lo, int64_t hi, int64_t chunk) {
  const Job* J = (const Job*)ctx;
  const float* x = (const float*)J->in;
  float* y = (float*)J->out;
  (void)chunk;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
}

static void relu_bwd(const void* ctx, int64_t lo, int64_t hi, int64_t chunk) {
  const Job* J = (const Job*)ctx;
  const float* dy = (const float*)J->in;
  const float* x = (const float*)J->in2;
  float* dx = (float*)J->out;
  (void)chunk;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    const float st = x[i] > 0.0f ? 1.0f : 0.0f;
    dx[i] = dy[i] * (x[i] != x[i] ? x[i] : st);
  }
}

static napi_value fail(napi_env env, const char* msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/* Reads up to cap numbers of a JS array into out; returns its length, or −1 after throwing. */
static int64_t numbers(napi_env env, napi_value arr, double* out, uint32_t cap) {
  uint32_t len = 0;
  if (napi_get_array_length(env, arr, &len) != napi_ok || len > cap) { fail(env, "course_conv.conv: offsets/sizes must be short arrays"); return -1; }
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || napi_get_value_double(env, e, &out[i]) != napi_ok) {
      fail(env, "course_conv.conv: offsets and sizes must be numbers");
      return -1;
    }
  }
  return len;
}

static napi_value Conv(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* heap = NULL;
  size_t bytes = 0;
  bool isAb = false;
  int32_t op = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) {
    napi_throw_type_error(env, NULL, "course_conv.conv: expected (heap, op, offsets, sizes)");
    return NULL;
  }
  if (napi_is_arraybuffer(env, argv[0], &isAb) != napi_ok || !isAb || napi_get_arraybuffer_info(env, argv[0], &heap, &bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "course_conv.conv: heap must be an ArrayBuffer");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[1], &op) != napi_ok || op < 0 || op > 5) return fail(env, "course_conv.conv: op must be 0..5");
  double off[3] = {0}, sz[9] = {0};
  const int64_t nOff = numbers(env, argv[2], off, 3), nSz = numbers(env, argv[3], sz, 9);
  if (nOff < 0 || nSz < 0) return NULL;
  const int64_t wantOff = op == 0 || op == 1 || op == 4 ? 2 : 3;
  if (nOff != wantOff || nSz != (op >= 4 ? 1 : 9)) return fail(env, "course_conv.conv: wrong number of offsets or sizes");
  uint8_t* P[3];
  if (op >= 4) {
    const int64_t n = (int64_t)sz[0];
    if (n < 0) return fail(env, "course_conv.conv: bad size");
    for (int64_t i = 0; i < wantOff; i++) {
      if (off[i] < 0 || (int64_t)off[i] + 4 * n > (int64_t)bytes) return fail(env, "course_conv.conv: operands outside the heap");
      P[i] = (uint8_t*)heap + (int64_t)off[i];
    }
    Job J = {P[0], op == 5 ? P[1] : NULL, op == 4 ? P[1] : P[2], NULL, NULL};
    const int64_t c = n / 32768;
    course_parallel_for(op == 4 ? relu_fwd : relu_bwd, &J, n, (uint32_t)(c < 1 ? 1 : c > 64 ? 64 : c));
    return NULL;
  }
  Geom g = {(int64_t)sz[0], (int64_t)sz[1], (int64_t)sz[2], (int64_t)sz[3], (int64_t)sz[4], (int64_t)sz[5], (int64_t)sz[6], (int64_t)sz[7], (int64_t)sz[8]};
  /* every access is bounds-checked against H and W, so any non-negative geometry is memory-safe */
  if (g.B < 0 || g.H < 1 || g.W < 1 || g.C < 0 || g.k < 1 || g.s < 1 || g.p < 0 || g.oh < 0 || g.ow < 0) return fail(env, "course_conv.conv: bad geometry");
  const int64_t nIn = g.B * g.H * g.W * g.C, nOut = g.B * g.oh * g.ow * g.C, nCols = g.B * g.oh * g.ow * g.k * g.k * g.C;
  if (nIn >= INT32_MAX) return fail(env, "course_conv.conv: input too large for int32 indices");
  /* elements each operand spans, in the order of the offsets */
  int64_t span[3] = {0};
  switch (op) {
    case 0: span[0] = nIn; span[1] = nCols; break;
    case 1: span[0] = nCols; span[1] = nIn; break;
    case 2: span[0] = nIn; span[1] = nOut; span[2] = nOut; break;
    case 3: span[0] = nOut; span[1] = nOut; span[2] = nIn; break;
  }
  for (int64_t i = 0; i < wantOff; i++) {
    if (off[i] < 0 || (int64_t)off[i] + 4 * span[i] > (int64_t)bytes) return fail(env, "course_conv.conv: operands outside the heap");
    P[i] = (uint8_t*)heap + (int64_t)off[i];
  }
  /* inputs, outputs in the order of the offsets: im2col x | cols, col2im dcols | dx, maxpool x | y, arg, backward dy, arg | dx */
  Job J = {P[0], op == 3 ? P[1] : NULL, op == 3 ? P[2] : P[1], op == 2 ? P[2] : NULL, &g};
  const RangeFn fns[4] = {im2col, col2im, maxpool_fwd, maxpool_bwd};
  course_parallel_for(fns[op], &J, g.B, imageChunks(&g));
  return NULL;
}

/* Adds conv() and convVersion to the addon's exports (called from course_gemm.c's Init). */
napi_status course_conv_exports(napi_env env, napi_value exports) {
  napi_value version, fn;
  napi_status st;
  if ((st = napi_create_int32(env, CONV_VERSION, &version)) != napi_ok) return st;
  if ((st = napi_set_named_property(env, exports, "convVersion", version)) != napi_ok) return st;
  if ((st = napi_create_function(env, "conv", NAPI_AUTO_LENGTH, Conv, NULL, &fn)) != napi_ok) return st;
  return napi_set_named_property(env, exports, "conv", fn);
}
