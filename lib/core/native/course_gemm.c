/*
 * course_gemm: a tiny N-API addon that runs single-precision GEMMs with OpenBLAS directly on the
 * tfjs wasm backend's heap (an ArrayBuffer), so the wasm backend's BatchMatMul kernel can be served
 * by a native BLAS (lib/core/native-gemm.ts). Built by scripts/bench/build-native-gemm.sh:
 *   gcc -O3 -march=native -fno-trapping-math -shared -fPIC -I/usr/include/node course_gemm.c -lopenblas -o build/native/course_gemm.node
 *   (-fno-trapping-math lets gcc vectorise the float→int step of exp; it changes no result)
 *
 * sgemmBatch(heap, batch, M, N, K, aOff, bOff, cOff, aStride, bStride, transA, transB)
 *   for i in [0, batch): C_i[M,N] = op(A_i) · op(B_i), row-major float32, byte offsets into heap;
 *   aStride/bStride = elements between batch items (0 = broadcast), C is contiguous.
 * setThreads(n), getThreads() → OpenBLAS thread count.
 * unary(heap, op, inOff, outOff, n): out[i] = f(in[i]) for n float32s, op 0 = exp, 1 = erf — the
 *   elementwise functions whose wasm kernels are scalar loops (18 and 33 ms per 2.1 M floats here);
 *   branch-free polynomial versions that gcc -O3 vectorises (exp: Cephes, ~1 ulp; erf: Eigen's
 *   rational approximation, clamped to ±4, max abs error ~1e-7). NaN stays NaN, ±inf as expf/erff.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "course_gemm: N-API call failed: " #call); return NULL; } } while (0)

/* The arguments of sgemmBatch and unary: argv[0] is the wasm heap, then numbers. */
typedef struct {
  napi_value argv[12];
  void* heap;       /* the heap's bytes */
  size_t bytes;     /* its size */
  double v[9];      /* argv[1..nNumbers] */
} HeapCall;

/* Exactly nArgs (<= 12) arguments, argv[0] an ArrayBuffer, argv[1..nNumbers] (<= 9) numbers; false after throwing. */
static bool heapArgs(napi_env env, napi_callback_info info, const char* fn, size_t nArgs, size_t nNumbers, HeapCall* c) {
  napi_value* argv = c->argv;
  char msg[96];
  size_t argc = nArgs;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "course_gemm: N-API call failed: napi_get_cb_info");
    return false;
  }
  if (argc != nArgs) {
    snprintf(msg, sizeof msg, "course_gemm.%s: expected %zu arguments", fn, nArgs);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  bool isAb = false;
  if (napi_is_arraybuffer(env, argv[0], &isAb) != napi_ok || !isAb) {
    snprintf(msg, sizeof msg, "course_gemm.%s: heap must be an ArrayBuffer", fn);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  if (napi_get_arraybuffer_info(env, argv[0], &c->heap, &c->bytes) != napi_ok) {
    napi_throw_error(env, NULL, "course_gemm: N-API call failed: napi_get_arraybuffer_info");
    return false;
  }
  for (size_t i = 0; i < nNumbers; i++) {
    if (napi_get_value_double(env, argv[1 + i], &c->v[i]) != napi_ok) {
      snprintf(msg, sizeof msg, "course_gemm.%s: argument %zu must be a number", fn, i + 2);
      napi_throw_type_error(env, NULL, msg);
      return false;
    }
  }
  return true;
}

static napi_value SgemmBatch(napi_env env, napi_callback_info info) {
  HeapCall c;
  if (!heapArgs(env, info, "sgemmBatch", 12, 9, &c)) return NULL;
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, c.argv[10], &ta));
  CHECK(napi_get_value_bool(env, c.argv[11], &tb));
  const int64_t batch = (int64_t)c.v[0], M = (int64_t)c.v[1], N = (int64_t)c.v[2], K = (int64_t)c.v[3];
  const int64_t aOff = (int64_t)c.v[4], bOff = (int64_t)c.v[5], cOff = (int64_t)c.v[6], aStride = (int64_t)c.v[7], bStride = (int64_t)c.v[8];
  if (batch < 0 || M < 0 || N < 0 || K < 0 || aOff < 0 || bOff < 0 || cOff < 0 || aStride < 0 || bStride < 0) {
    napi_throw_range_error(env, NULL, "course_gemm.sgemmBatch: negative size or offset"); return NULL;
  }
  const int64_t last = batch > 0 ? batch - 1 : 0;
  if (aOff + 4 * (last * aStride + M * K) > (int64_t)c.bytes || bOff + 4 * (last * bStride + K * N) > (int64_t)c.bytes ||
      cOff + 4 * batch * M * N > (int64_t)c.bytes) {
    napi_throw_range_error(env, NULL, "course_gemm.sgemmBatch: operands outside the heap"); return NULL;
  }
  const float* A = (const float*)((uint8_t*)c.heap + aOff);
  const float* B = (const float*)((uint8_t*)c.heap + bOff);
  float* C = (float*)((uint8_t*)c.heap + cOff);
  const int lda = ta ? (int)M : (int)K, ldb = tb ? (int)K : (int)N;
  for (int64_t i = 0; i < batch; i++) {
    if (K == 0) { for (int64_t j = 0; j < M * N; j++) C[i * M * N + j] = 0.0f; continue; }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
                1.0f, A + i * aStride, lda, B + i * bStride, ldb, 0.0f, C + i * M * N, (int)N);
  }
  return NULL;
}

static inline float exp_f(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365478515625f;   /* exp(lo) = smallest normal float */
  float xc = x > hi ? hi : (x < lo ? lo : x);
  float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  float r2 = r * r;
  float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r
             + 1.6666665459e-1f) * r + 5.0000001201e-1f;
  y = y * r2 + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, 4);
  float out = y * scale;
  out = x > hi ? __builtin_inff() : out;
  out = x < lo ? 0.0f : out;
  return x != x ? x : out;
}

static inline float erf_f(float a) {
  float x = a > 4.0f ? 4.0f : (a < -4.0f ? -4.0f : a);
  float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = x2 * p + -2.10102402082508e-06f;
  p = x2 * p + -5.69250639462346e-05f;
  p = x2 * p + -7.34990630326855e-04f;
  p = x2 * p + -2.95459980854025e-03f;
  p = x2 * p + -1.60960333262415e-02f;
  p = x * p;
  float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = x2 * q + -1.68282697438203e-03f;
  q = x2 * q + -7.37332916720468e-03f;
  q = x2 * q + -1.42647390514189e-02f;
  float out = p / q;
  return a != a ? a : out;
}

static napi_value Unary(napi_env env, napi_callback_info info) {
  HeapCall c;
  if (!heapArgs(env, info, "unary", 5, 4, &c)) return NULL;
  const int64_t op = (int64_t)c.v[0], inOff = (int64_t)c.v[1], outOff = (int64_t)c.v[2], n = (int64_t)c.v[3];
  if (op < 0 || op > 1) { napi_throw_range_error(env, NULL, "course_gemm.unary: op must be 0 (exp) or 1 (erf)"); return NULL; }
  if (inOff < 0 || outOff < 0 || n < 0 || inOff + 4 * n > (int64_t)c.bytes || outOff + 4 * n > (int64_t)c.bytes) {
    napi_throw_range_error(env, NULL, "course_gemm.unary: operands outside the heap"); return NULL;
  }
  const float* in = (const float*)((uint8_t*)c.heap + inOff);
  float* out = (float*)((uint8_t*)c.heap + outOff);
  if (op == 0) { for (int64_t i = 0; i < n; i++) out[i] = exp_f(in[i]); }
  else { for (int64_t i = 0; i < n; i++) out[i] = erf_f(in[i]); }
  return NULL;
}

/* ---- fused elementwise kernels (single thread, vectorised by gcc: -O3 -fopenmp-simd) -------------
 * Each replaces a chain of tfjs kernels that would each read and write whole tensors on one wasm
 * thread; all are checked against the composed tfjs ops in test/core/native-kernels-wasm.test.ts. */

/* LayerNorm over the last axis: x[N,D] → y = xhat·g + b, xhat = (x − mean)·rstd, rstd[N] = 1/√(var + eps). */
static void ln_fwd(const float* x, const float* g, const float* b, float* y, float* xh, float* rs, int64_t N, int64_t D, float eps) {
  for (int64_t i = 0; i < N; i++) {
    const float* xr = x + i * D;
    float* yr = y + i * D;
    float* hr = xh + i * D;
    float s = 0.0f;
#pragma omp simd reduction(+:s)
    for (int64_t j = 0; j < D; j++) s += xr[j];
    const float mean = s / (float)D;
    float v = 0.0f;
#pragma omp simd reduction(+:v)
    for (int64_t j = 0; j < D; j++) { float c = xr[j] - mean; v += c * c; }
    const float r = 1.0f / sqrtf(v / (float)D + eps);
    rs[i] = r;
#pragma omp simd
    for (int64_t j = 0; j < D; j++) { float h = (xr[j] - mean) * r; hr[j] = h; yr[j] = h * g[j] + b[j]; }
  }
}

/* LayerNorm backward: dxhat = dy·g; dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat));
 * dg = Σ_rows dy·xhat, db = Σ_rows dy (accumulated into dg, db, which start at 0). */
static void ln_bwd(const float* dy, const float* xh, const float* rs, const float* g, float* dx, float* dg, float* db, int64_t N, int64_t D) {
  for (int64_t j = 0; j < D; j++) { dg[j] = 0.0f; db[j] = 0.0f; }
  for (int64_t i = 0; i < N; i++) {
    const float* d = dy + i * D;
    const float* h = xh + i * D;
    float* o = dx + i * D;
    float m1 = 0.0f, m2 = 0.0f;
#pragma omp simd reduction(+:m1, m2)
    for (int64_t j = 0; j < D; j++) { float t = d[j] * g[j]; m1 += t; m2 += t * h[j]; }
    m1 /= (float)D;
    m2 /= (float)D;
    const float r = rs[i];
#pragma omp simd
    for (int64_t j = 0; j < D; j++) {
      o[j] = r * (d[j] * g[j] - m1 - h[j] * m2);
      dg[j] += d[j] * h[j];
      db[j] += d[j];
    }
  }
}

/* exact GELU x·Φ(x), Φ(x) = (1 + erf(x/√2))/2, and its gradient dy·(Φ(x) + x·φ(x)). */
static void gelu_fwd(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * (0.5f + 0.5f * erf_f(x[i] * 0.70710678118654752f));
}
static void gelu_bwd(const float* dy, const float* x, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float xi = x[i];
    const float cdf = 0.5f + 0.5f * erf_f(xi * 0.70710678118654752f);
    const float pdf = exp_f(-0.5f * xi * xi) * 0.39894228040143268f;
    dx[i] = dy[i] * (cdf + xi * pdf);
  }
}

/* softmax over the last axis of x[N,T], and its gradient dx = y·(dy − Σ_t dy·y). */
static void softmax_fwd(const float* x, float* y, int64_t N, int64_t T) {
  for (int64_t i = 0; i < N; i++) {
    const float* xr = x + i * T;
    float* yr = y + i * T;
    float m = -__builtin_inff();
#pragma omp simd reduction(max:m)
    for (int64_t j = 0; j < T; j++) m = xr[j] > m ? xr[j] : m;
    float s = 0.0f;
#pragma omp simd reduction(+:s)
    for (int64_t j = 0; j < T; j++) { float e = exp_f(xr[j] - m); yr[j] = e; s += e; }
    const float inv = 1.0f / s;
#pragma omp simd
    for (int64_t j = 0; j < T; j++) yr[j] *= inv;
  }
}
static void softmax_bwd(const float* dy, const float* y, float* dx, int64_t N, int64_t T) {
  for (int64_t i = 0; i < N; i++) {
    const float* d = dy + i * T;
    const float* yr = y + i * T;
    float* o = dx + i * T;
    float s = 0.0f;
#pragma omp simd reduction(+:s)
    for (int64_t j = 0; j < T; j++) s += d[j] * yr[j];
#pragma omp simd
    for (int64_t j = 0; j < T; j++) o[j] = yr[j] * (d[j] - s);
  }
}

/* One AdamW update (torch.optim.AdamW): p' = p·keep − step·m'/(√v'/bc2 + eps),
 * m' = b1·m + c1·g, v' = b2·v + c2·g² (c1 = 1−b1, c2 = 1−b2 rounded from double, as tfjs's scalars are),
 * written to new buffers (tfjs tensors are immutable). */
static void adamw(const float* p, const float* m, const float* v, const float* g, float* po, float* mo, float* vo, int64_t n,
                  float b1, float b2, float keep, float step, float bc2, float eps, float c1, float c2) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * c1;
    const float vi = v[i] * b2 + (gi * gi) * c2;
    const float denom = sqrtf(vi) / bc2 + eps;
    mo[i] = mi;
    vo[i] = vi;
    po[i] = p[i] * keep - (mi / denom) * step;
  }
}

/* fused(heap, op, offsets[8], sizes[4], scalars[6]): the kernels above, by op number:
 *   0 ln_fwd(x, g, b | y, xhat, rstd; N, D; eps)     1 ln_bwd(dy, xhat, rstd, g | dx, dg, db; N, D)
 *   2 gelu_fwd(x | y; n)    3 gelu_bwd(dy, x | dx; n)    4 softmax_fwd(x | y; N, T)    5 softmax_bwd(dy, y | dx; N, T)
 *   6 adamw(p, m, v, g | p', m', v'; n; b1, b2, keep, step, bc2, eps, 1−b1, 1−b2)
 * Offsets are byte offsets into the heap; the caller (lib/core/native-kernels.ts) passes the sizes. */
static napi_value Fused(napi_env env, napi_callback_info info) {
  HeapCall c;
  if (!heapArgs(env, info, "fused", 5, 1, &c)) return NULL;
  void* heap = c.heap;
  const size_t heapBytes = c.bytes;
  const int32_t op = (int32_t)c.v[0];
  double off[8] = {0}, sz[4] = {0}, sc[8] = {0};
  napi_value arrs[3] = {c.argv[2], c.argv[3], c.argv[4]};
  double* dst[3] = {off, sz, sc};
  const uint32_t cap[3] = {8, 4, 8};
  for (int a = 0; a < 3; a++) {
    uint32_t len = 0;
    CHECK(napi_get_array_length(env, arrs[a], &len));
    if (len > cap[a]) { napi_throw_range_error(env, NULL, "course_gemm.fused: too many values"); return NULL; }
    for (uint32_t i = 0; i < len; i++) {
      napi_value e;
      CHECK(napi_get_element(env, arrs[a], i, &e));
      CHECK(napi_get_value_double(env, e, &dst[a][i]));
    }
  }
  const int64_t s0 = (int64_t)sz[0], s1 = (int64_t)sz[1];
  /* bytes each operand spans, to check every offset stays inside the heap */
  int64_t span[8] = {0};
  int nOps = 0;
  switch (op) {
    case 0: nOps = 6; span[0] = s0 * s1; span[1] = s1; span[2] = s1; span[3] = s0 * s1; span[4] = s0 * s1; span[5] = s0; break;
    case 1: nOps = 7; span[0] = s0 * s1; span[1] = s0 * s1; span[2] = s0; span[3] = s1; span[4] = s0 * s1; span[5] = s1; span[6] = s1; break;
    case 2: nOps = 2; span[0] = s0; span[1] = s0; break;
    case 3: nOps = 3; span[0] = s0; span[1] = s0; span[2] = s0; break;
    case 4: nOps = 2; span[0] = s0 * s1; span[1] = s0 * s1; break;
    case 5: nOps = 3; span[0] = s0 * s1; span[1] = s0 * s1; span[2] = s0 * s1; break;
    case 6: nOps = 7; for (int i = 0; i < 7; i++) span[i] = s0; break;
    default: napi_throw_range_error(env, NULL, "course_gemm.fused: unknown op"); return NULL;
  }
  if (s0 < 0 || s1 < 0) { napi_throw_range_error(env, NULL, "course_gemm.fused: negative size"); return NULL; }
  float* P[8];
  for (int i = 0; i < nOps; i++) {
    if (off[i] < 0 || (int64_t)off[i] + 4 * span[i] > (int64_t)heapBytes) { napi_throw_range_error(env, NULL, "course_gemm.fused: operands outside the heap"); return NULL; }
    P[i] = (float*)((uint8_t*)heap + (int64_t)off[i]);
  }
  switch (op) {
    case 0: ln_fwd(P[0], P[1], P[2], P[3], P[4], P[5], s0, s1, (float)sc[0]); break;
    case 1: ln_bwd(P[0], P[1], P[2], P[3], P[4], P[5], P[6], s0, s1); break;
    case 2: gelu_fwd(P[0], P[1], s0); break;
    case 3: gelu_bwd(P[0], P[1], P[2], s0); break;
    case 4: softmax_fwd(P[0], P[1], s0, s1); break;
    case 5: softmax_bwd(P[0], P[1], P[2], s0, s1); break;
    case 6: adamw(P[0], P[1], P[2], P[3], P[4], P[5], P[6], s0, (float)sc[0], (float)sc[1], (float)sc[2], (float)sc[3], (float)sc[4], (float)sc[5], (float)sc[6], (float)sc[7]); break;
  }
  return NULL;
}

/* transpose(heap, inOff, outOff, shape[], perm[]): out = x.transpose(perm) for float32, rank 1..6.
 * Walks the output in order; the innermost output axis is a contiguous copy when it is also the
 * input's innermost axis (e.g. splitting heads, [B,T,H,d] → [B,H,T,d]), else a strided gather. */
static napi_value Transpose(napi_env env, napi_callback_info info) {
  HeapCall c;
  if (!heapArgs(env, info, "transpose", 5, 2, &c)) return NULL;
  const int64_t inOff = (int64_t)c.v[0], outOff = (int64_t)c.v[1];
  uint32_t rank = 0, rank2 = 0;
  CHECK(napi_get_array_length(env, c.argv[3], &rank));
  CHECK(napi_get_array_length(env, c.argv[4], &rank2));
  if (rank < 1 || rank > 6 || rank2 != rank) { napi_throw_range_error(env, NULL, "course_gemm.transpose: rank must be 1..6, perm as long as shape"); return NULL; }
  int64_t shape[6], istr[6], ostrIn[6], oshape[6];
  int32_t perm[6];
  int64_t total = 1;
  for (uint32_t i = 0; i < rank; i++) {
    napi_value e;
    double d;
    CHECK(napi_get_element(env, c.argv[3], i, &e));
    CHECK(napi_get_value_double(env, e, &d));
    shape[i] = (int64_t)d;
    CHECK(napi_get_element(env, c.argv[4], i, &e));
    CHECK(napi_get_value_int32(env, e, &perm[i]));
    if (shape[i] < 0 || perm[i] < 0 || perm[i] >= (int32_t)rank) { napi_throw_range_error(env, NULL, "course_gemm.transpose: bad shape or perm"); return NULL; }
    total *= shape[i];
  }
  if (inOff < 0 || outOff < 0 || inOff + 4 * total > (int64_t)c.bytes || outOff + 4 * total > (int64_t)c.bytes) {
    napi_throw_range_error(env, NULL, "course_gemm.transpose: operands outside the heap"); return NULL;
  }
  if (total == 0) return NULL;
  istr[rank - 1] = 1;
  for (int i = (int)rank - 2; i >= 0; i--) istr[i] = istr[i + 1] * shape[i + 1];
  for (uint32_t i = 0; i < rank; i++) { ostrIn[i] = istr[perm[i]]; oshape[i] = shape[perm[i]]; }
  const float* in = (const float*)((uint8_t*)c.heap + inOff);
  float* out = (float*)((uint8_t*)c.heap + outOff);
  const int64_t inner = oshape[rank - 1], s = ostrIn[rank - 1], outer = total / inner;
  int64_t idx[6] = {0};
  for (int64_t o = 0; o < outer; o++) {
    int64_t base = 0;
    for (uint32_t i = 0; i + 1 < rank; i++) base += idx[i] * ostrIn[i];
    const float* src = in + base;
    float* dst = out + o * inner;
    if (s == 1) __builtin_memcpy(dst, src, (size_t)inner * 4);
    else for (int64_t j = 0; j < inner; j++) dst[j] = src[j * s];
    for (int i = (int)rank - 2; i >= 0; i--) { if (++idx[i] < oshape[i]) break; idx[i] = 0; }
  }
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1) { napi_throw_type_error(env, NULL, "course_gemm.setThreads: expected 1 argument"); return NULL; }
  CHECK(napi_get_value_int32(env, argv[0], &n));
  openblas_set_num_threads(n < 1 ? 1 : n);
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  napi_value out;
  (void)info;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

/* Bumped with every change of the exports; lib/core/native-kernels.ts refuses another version. */
#define COURSE_NATIVE_VERSION 4

napi_status course_conv_exports(napi_env env, napi_value exports); /* course_conv.c */

static napi_value Init(napi_env env, napi_value exports) {
  napi_value version;
  CHECK(napi_create_int32(env, COURSE_NATIVE_VERSION, &version));
  napi_property_descriptor props[] = {
    {"version", NULL, NULL, NULL, NULL, version, napi_enumerable, NULL},
    {"sgemmBatch", NULL, SgemmBatch, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"unary", NULL, Unary, NULL, NULL, NULL, napi_default, NULL},
    {"fused", NULL, Fused, NULL, NULL, NULL, napi_default, NULL},
    {"transpose", NULL, Transpose, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  CHECK(course_conv_exports(env, exports));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
