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
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>


/* ---- a small parallel-for for the elementwise kernels ------------------------------------------
 * The calling thread and (kernelThreads − 1) workers take chunks of [0, n) from one atomic counter
 * tagged with the job's generation. The chunking depends on n only (never on the thread count), so
 * every result, reductions included, is the same for any number of threads. On a busy machine a
 * worker that is not scheduled costs only the wake-up: the caller does the chunks nobody took.
 * Workers sleep on a condition variable between jobs (no spinning that would take a core from
 * OpenBLAS or other processes). */
#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#else
#define CPU_RELAX() ((void)0)
#endif
typedef void (*RangeFn)(const void* ctx, int64_t lo, int64_t hi, int64_t chunk);
#define MAX_KERNEL_THREADS 8
static int kernelThreads = 1;
static int nWorkers = 0;
static pthread_mutex_t poolMu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poolCv = PTHREAD_COND_INITIALIZER;
static struct { RangeFn fn; const void* ctx; int64_t n, chunk; uint32_t nChunks; } job;
static uint32_t jobGen = 0;       /* under poolMu */
static uint64_t jobNext = 0;      /* (generation << 32) | next chunk, atomic */
static uint32_t jobDone = 0;      /* chunks finished, atomic */

static int64_t claimChunk(uint32_t gen, uint32_t nChunks) {
  uint64_t v = __atomic_load_n(&jobNext, __ATOMIC_ACQUIRE);
  for (;;) {
    if ((uint32_t)(v >> 32) != gen || (uint32_t)v >= nChunks) return -1;
    if (__atomic_compare_exchange_n(&jobNext, &v, v + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return (int64_t)(uint32_t)v;
  }
}

static void runClaimed(uint32_t gen, RangeFn fn, const void* ctx, int64_t n, int64_t chunk, uint32_t nChunks) {
  int64_t c;
  while ((c = claimChunk(gen, nChunks)) >= 0) {
    const int64_t lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
    fn(ctx, lo, hi, c);
    __atomic_fetch_add(&jobDone, 1, __ATOMIC_ACQ_REL);
  }
}

static void* poolWorker(void* arg) {
  (void)arg;
  uint32_t seen = 0;
  for (;;) {
    pthread_mutex_lock(&poolMu);
    while (jobGen == seen) pthread_cond_wait(&poolCv, &poolMu);
    seen = jobGen;
    const RangeFn fn = job.fn;
    const void* ctx = job.ctx;
    const int64_t n = job.n, chunk = job.chunk;
    const uint32_t nChunks = job.nChunks;
    pthread_mutex_unlock(&poolMu);
    runClaimed(seen, fn, ctx, n, chunk, nChunks);  /* claims fail once the job is over: ctx is not touched then */
  }
  return NULL;
}

/* Number of chunks of [0, n) with at least minChunk items each (at most 64). */
static inline uint32_t chunksOf(int64_t n, int64_t minChunk) {
  int64_t c = n / (minChunk > 0 ? minChunk : 1);
  return (uint32_t)(c < 1 ? 1 : c > 64 ? 64 : c);
}

/* fn over [0, n) in nChunks equal chunks (the last one shorter), on up to kernelThreads threads. */
static void parallelFor(RangeFn fn, const void* ctx, int64_t n, uint32_t nChunks) {
  if (n <= 0) return;
  const int64_t chunk = (n + nChunks - 1) / nChunks;
  nChunks = (uint32_t)((n + chunk - 1) / chunk);
  if (kernelThreads <= 1 || nChunks == 1) {
    for (uint32_t c = 0; c < nChunks; c++) { const int64_t lo = c * chunk; fn(ctx, lo, lo + chunk < n ? lo + chunk : n, c); }
    return;
  }
  while (nWorkers < kernelThreads - 1 && nWorkers < MAX_KERNEL_THREADS - 1) {
    pthread_t t;
    if (pthread_create(&t, NULL, poolWorker, NULL) != 0) break;
    pthread_detach(t);
    nWorkers++;
  }
  pthread_mutex_lock(&poolMu);
  const uint32_t gen = ++jobGen;
  job.fn = fn; job.ctx = ctx; job.n = n; job.chunk = chunk; job.nChunks = nChunks;
  __atomic_store_n(&jobDone, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&jobNext, (uint64_t)gen << 32, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&poolCv);
  pthread_mutex_unlock(&poolMu);
  runClaimed(gen, fn, ctx, n, chunk, nChunks);
  for (int spins = 0; __atomic_load_n(&jobDone, __ATOMIC_ACQUIRE) < nChunks; spins++) {
    if (spins > 1000) sched_yield(); else CPU_RELAX();
  }
}

/* The same parallel-for for course_conv.c's kernels (which chunk by image). */
void course_parallel_for(RangeFn fn, const void* ctx, int64_t n, uint32_t nChunks) { parallelFor(fn, ctx, n, nChunks); }

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

/* C_i = op(A_i)·op(B_i) for the batch items [lo, hi) (row-major; C contiguous). */
typedef struct { const float *A, *B; float* C; int64_t M, N, K, aStride, bStride; bool ta, tb; } Gemms;
static void gemm_items(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const Gemms* c = (const Gemms*)vc;
  const int64_t M = c->M, N = c->N, K = c->K;
  const int lda = c->ta ? (int)M : (int)K, ldb = c->tb ? (int)K : (int)N;
  (void)chunk;
  for (int64_t i = lo; i < hi; i++) {
    if (K == 0) { for (int64_t j = 0; j < M * N; j++) c->C[i * M * N + j] = 0.0f; continue; }
    cblas_sgemm(CblasRowMajor, c->ta ? CblasTrans : CblasNoTrans, c->tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
                1.0f, c->A + i * c->aStride, lda, c->B + i * c->bStride, ldb, 0.0f, c->C + i * M * N, (int)N);
  }
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
  Gemms k = {A, B, C, M, N, K, aStride, bStride, ta, tb};
  /* many small products (attention's [65,32]·[32,65] per head), each on 1 OpenBLAS thread: the
   * items are spread over the elementwise kernels' threads instead, ~1 MFLOP per chunk at least */
  const int64_t work = M * N * (K > 0 ? K : 1);
  if (batch > 1 && openblas_get_num_threads() == 1) parallelFor(gemm_items, &k, batch, chunksOf(batch, work >= (1 << 20) ? 1 : (1 << 20) / work));
  else gemm_items(&k, 0, batch, 0);
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

typedef struct { const float* in; float* out; int op; } UnaryArgs;
static void unary_range(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const UnaryArgs* c = (const UnaryArgs*)vc;
  const float* in = c->in;
  float* out = c->out;
  (void)chunk;
  if (c->op == 0) { for (int64_t i = lo; i < hi; i++) out[i] = exp_f(in[i]); }
  else { for (int64_t i = lo; i < hi; i++) out[i] = erf_f(in[i]); }
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
  UnaryArgs k = {in, out, (int)op};
  parallelFor(unary_range, &k, n, chunksOf(n, 32768));
  return NULL;
}

/* ---- fused elementwise kernels (vectorised by gcc: -O3 -fopenmp-simd; rows or elements split
 * into chunks by parallelFor above) ---------------------------------------------------------------
 * Each replaces a chain of tfjs kernels that would each read and write whole tensors on one wasm
 * thread; all are checked against the composed tfjs ops in test/core/native-kernels-wasm.test.ts.
 * Chunks hold at least this many floats: below it a hand-off costs more than the work. */
#define MIN_CHUNK_FLOATS 32768
static inline int64_t rowsPerChunk(int64_t D) { return D >= MIN_CHUNK_FLOATS ? 1 : MIN_CHUNK_FLOATS / (D > 0 ? D : 1); }

/* LayerNorm over the last axis: x[N,D] → y = xhat·g + b, xhat = (x − mean)·rstd, rstd[N] = 1/√(var + eps). */
typedef struct { const float *x, *g, *b; float *y, *xh, *rs; int64_t D; float eps; } LnFwd;
static void ln_fwd(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const LnFwd* c = (const LnFwd*)vc;
  const int64_t D = c->D;
  const float *g = c->g, *b = c->b;
  (void)chunk;
  for (int64_t i = lo; i < hi; i++) {
    const float* xr = c->x + i * D;
    float* yr = c->y + i * D;
    float* hr = c->xh + i * D;
    float s = 0.0f;
#pragma omp simd reduction(+:s)
    for (int64_t j = 0; j < D; j++) s += xr[j];
    const float mean = s / (float)D;
    float v = 0.0f;
#pragma omp simd reduction(+:v)
    for (int64_t j = 0; j < D; j++) { float d = xr[j] - mean; v += d * d; }
    const float r = 1.0f / sqrtf(v / (float)D + c->eps);
    c->rs[i] = r;
#pragma omp simd
    for (int64_t j = 0; j < D; j++) { float h = (xr[j] - mean) * r; hr[j] = h; yr[j] = h * g[j] + b[j]; }
  }
}

/* LayerNorm backward: dxhat = dy·g; dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat));
 * dg = Σ_rows dy·xhat, db = Σ_rows dy: per chunk into part[chunk][2D], summed in chunk order after. */
typedef struct { const float *dy, *xh, *rs, *g; float *dx, *part; int64_t D; } LnBwd;
static void ln_bwd(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const LnBwd* c = (const LnBwd*)vc;
  const int64_t D = c->D;
  const float* g = c->g;
  float* dg = c->part + chunk * 2 * D;
  float* db = dg + D;
  for (int64_t j = 0; j < D; j++) { dg[j] = 0.0f; db[j] = 0.0f; }
  for (int64_t i = lo; i < hi; i++) {
    const float* d = c->dy + i * D;
    const float* h = c->xh + i * D;
    float* o = c->dx + i * D;
    float m1 = 0.0f, m2 = 0.0f;
#pragma omp simd reduction(+:m1, m2)
    for (int64_t j = 0; j < D; j++) { float t = d[j] * g[j]; m1 += t; m2 += t * h[j]; }
    m1 /= (float)D;
    m2 /= (float)D;
    const float r = c->rs[i];
#pragma omp simd
    for (int64_t j = 0; j < D; j++) {
      o[j] = r * (d[j] * g[j] - m1 - h[j] * m2);
      dg[j] += d[j] * h[j];
      db[j] += d[j];
    }
  }
}

/* exact GELU x·Φ(x), Φ(x) = (1 + erf(x/√2))/2, and its gradient dy·(Φ(x) + x·φ(x)). */
typedef struct { const float *x, *dy; float* out; } Gelu;
static void gelu_fwd(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const Gelu* c = (const Gelu*)vc;
  const float* x = c->x;
  float* y = c->out;
  (void)chunk;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) y[i] = x[i] * (0.5f + 0.5f * erf_f(x[i] * 0.70710678118654752f));
}
static void gelu_bwd(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const Gelu* c = (const Gelu*)vc;
  const float *x = c->x, *dy = c->dy;
  float* dx = c->out;
  (void)chunk;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    const float xi = x[i];
    const float cdf = 0.5f + 0.5f * erf_f(xi * 0.70710678118654752f);
    const float pdf = exp_f(-0.5f * xi * xi) * 0.39894228040143268f;
    dx[i] = dy[i] * (cdf + xi * pdf);
  }
}

/* softmax over the last axis of x[N,T], and its gradient dx = y·(dy − Σ_t dy·y). */
typedef struct { const float *x, *dy; float* out; int64_t T; } Softmax;
static void softmax_fwd(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const Softmax* c = (const Softmax*)vc;
  const int64_t T = c->T;
  (void)chunk;
  for (int64_t i = lo; i < hi; i++) {
    const float* xr = c->x + i * T;
    float* yr = c->out + i * T;
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
static void softmax_bwd(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const Softmax* c = (const Softmax*)vc;   /* x = y (the softmax output) */
  const int64_t T = c->T;
  (void)chunk;
  for (int64_t i = lo; i < hi; i++) {
    const float* d = c->dy + i * T;
    const float* yr = c->x + i * T;
    float* o = c->out + i * T;
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
typedef struct { const float *p, *m, *v, *g; float *po, *mo, *vo; float b1, b2, keep, step, bc2, eps, c1, c2; } AdamW;
static void adamw(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const AdamW* c = (const AdamW*)vc;
  const float b1 = c->b1, b2 = c->b2, keep = c->keep, step = c->step, bc2 = c->bc2, eps = c->eps, c1 = c->c1, c2 = c->c2;
  const float *p = c->p, *m = c->m, *v = c->v, *g = c->g;
  float *po = c->po, *mo = c->mo, *vo = c->vo;
  (void)chunk;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * c1;
    const float vi = v[i] * b2 + (gi * gi) * c2;
    const float denom = sqrtf(vi) / bc2 + eps;
    mo[i] = mi;
    vo[i] = vi;
    po[i] = p[i] * keep - (mi / denom) * step;
  }
}

/* Column sums x[N,D] → [D] (tf.sum over the leading axes: bias gradients): per chunk of rows into
 * part[chunk][D], summed in chunk order after. */
typedef struct { const float* x; float* part; int64_t D; } ColSum;
static void col_sum(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const ColSum* c = (const ColSum*)vc;
  const int64_t D = c->D;
  float* s = c->part + chunk * D;
  for (int64_t j = 0; j < D; j++) s[j] = 0.0f;
  for (int64_t i = lo; i < hi; i++) {
    const float* r = c->x + i * D;
#pragma omp simd
    for (int64_t j = 0; j < D; j++) s[j] += r[j];
  }
}

/* Elementwise a ∘ b on an [N, D] view of the output; each operand is read at r·rowStride + j·colStride
 * (colStride 1: a full row; 0: one value per row; rowStride 0: the same row for every r, e.g. a bias). */
typedef struct { const float *a, *b; float* out; int64_t D, aRow, aCol, bRow, bCol; int op; } Binary;
#define BINARY_LOOP(EXPR) \
  for (int64_t r = lo; r < hi; r++) { \
    const float* ar = c->a + r * c->aRow; const float* br = c->b + r * c->bRow; float* o = c->out + r * D; \
    if (c->aCol && c->bCol) { _Pragma("omp simd") for (int64_t j = 0; j < D; j++) { const float x = ar[j], y = br[j]; o[j] = (EXPR); } } \
    else if (c->aCol) { const float y = br[0]; _Pragma("omp simd") for (int64_t j = 0; j < D; j++) { const float x = ar[j]; o[j] = (EXPR); } } \
    else if (c->bCol) { const float x = ar[0]; _Pragma("omp simd") for (int64_t j = 0; j < D; j++) { const float y = br[j]; o[j] = (EXPR); } } \
    else { const float x = ar[0], y = br[0]; for (int64_t j = 0; j < D; j++) o[j] = (EXPR); } \
  }
static void binary(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const Binary* c = (const Binary*)vc;
  const int64_t D = c->D;
  (void)chunk;
  switch (c->op) {
    case 0: BINARY_LOOP(x + y) break;
    case 1: BINARY_LOOP(x - y) break;
    case 2: BINARY_LOOP(x * y) break;
  }
}

/* fused(heap, op, offsets[8], sizes[8], scalars[8]): the kernels above, by op number:
 *   0 ln_fwd(x, g, b | y, xhat, rstd; N, D; eps)     1 ln_bwd(dy, xhat, rstd, g | dx, dg, db; N, D)
 *   2 gelu_fwd(x | y; n)    3 gelu_bwd(dy, x | dx; n)    4 softmax_fwd(x | y; N, T)    5 softmax_bwd(dy, y | dx; N, T)
 *   6 adamw(p, m, v, g | p', m', v'; n; b1, b2, keep, step, bc2, eps, 1−b1, 1−b2)
 *   7 col_sum(x | out; N, D)
 *   8 binary(a, b | out; N, D, aRow, aCol, bRow, bCol, op (0 add, 1 sub, 2 mul))
 * Offsets are byte offsets into the heap; the caller (lib/core/native-kernels.ts) passes the sizes. */
static napi_value Fused(napi_env env, napi_callback_info info) {
  HeapCall c;
  if (!heapArgs(env, info, "fused", 5, 1, &c)) return NULL;
  void* heap = c.heap;
  const size_t heapBytes = c.bytes;
  const int32_t op = (int32_t)c.v[0];
  double off[8] = {0}, sz[8] = {0}, sc[8] = {0};
  napi_value arrs[3] = {c.argv[2], c.argv[3], c.argv[4]};
  double* dst[3] = {off, sz, sc};
  const uint32_t cap[3] = {8, 8, 8};
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
  int64_t s[8];
  for (int i = 0; i < 8; i++) {
    s[i] = (int64_t)sz[i];
    if (s[i] < 0) { napi_throw_range_error(env, NULL, "course_gemm.fused: negative size"); return NULL; }
  }
  const int64_t s0 = s[0], s1 = s[1];
  /* floats each operand spans, to check every offset stays inside the heap */
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
    case 7: nOps = 2; span[0] = s0 * s1; span[1] = s1; break;
    case 8:
      if (s[3] > 1 || s[5] > 1 || s[6] > 2) { napi_throw_range_error(env, NULL, "course_gemm.fused: bad binary operands"); return NULL; }
      nOps = 3;
      span[0] = s0 * s1 == 0 ? 0 : (s0 - 1) * s[2] + (s1 - 1) * s[3] + 1;
      span[1] = s0 * s1 == 0 ? 0 : (s0 - 1) * s[4] + (s1 - 1) * s[5] + 1;
      span[2] = s0 * s1;
      break;
    default: napi_throw_range_error(env, NULL, "course_gemm.fused: unknown op"); return NULL;
  }
  float* P[8];
  for (int i = 0; i < nOps; i++) {
    if (off[i] < 0 || (int64_t)off[i] + 4 * span[i] > (int64_t)heapBytes) { napi_throw_range_error(env, NULL, "course_gemm.fused: operands outside the heap"); return NULL; }
    P[i] = (float*)((uint8_t*)heap + (int64_t)off[i]);
  }
  switch (op) {
    case 0: { LnFwd k = {P[0], P[1], P[2], P[3], P[4], P[5], s1, (float)sc[0]}; parallelFor(ln_fwd, &k, s0, chunksOf(s0, rowsPerChunk(s1))); break; }
    case 1: case 7: {
      const uint32_t nc = chunksOf(s0, rowsPerChunk(s1));
      const int64_t width = op == 1 ? 2 * s1 : s1;
      float* part = (float*)malloc((size_t)(nc * width > 0 ? nc * width : 1) * sizeof(float));
      if (!part) { napi_throw_error(env, NULL, "course_gemm.fused: out of memory"); return NULL; }
      if (op == 1) { LnBwd k = {P[0], P[1], P[2], P[3], P[4], part, s1}; parallelFor(ln_bwd, &k, s0, nc); }
      else { ColSum k = {P[0], part, s1}; parallelFor(col_sum, &k, s0, nc); }
      const uint32_t used = s0 > 0 ? (uint32_t)((s0 + (s0 + nc - 1) / nc - 1) / ((s0 + nc - 1) / nc)) : 0; /* chunks parallelFor ran */
      float* outs[2] = {op == 1 ? P[5] : P[1], op == 1 ? P[6] : NULL};
      for (int w = 0; w < (op == 1 ? 2 : 1); w++) {
        float* o = outs[w];
        for (int64_t j = 0; j < s1; j++) o[j] = 0.0f;
        for (uint32_t k = 0; k < used; k++) {
          const float* q = part + k * width + w * s1;
#pragma omp simd
          for (int64_t j = 0; j < s1; j++) o[j] += q[j];
        }
      }
      free(part);
      break;
    }
    case 2: { Gelu k = {P[0], NULL, P[1]}; parallelFor(gelu_fwd, &k, s0, chunksOf(s0, MIN_CHUNK_FLOATS)); break; }
    case 3: { Gelu k = {P[1], P[0], P[2]}; parallelFor(gelu_bwd, &k, s0, chunksOf(s0, MIN_CHUNK_FLOATS)); break; }
    case 4: { Softmax k = {P[0], NULL, P[1], s1}; parallelFor(softmax_fwd, &k, s0, chunksOf(s0, rowsPerChunk(s1))); break; }
    case 5: { Softmax k = {P[1], P[0], P[2], s1}; parallelFor(softmax_bwd, &k, s0, chunksOf(s0, rowsPerChunk(s1))); break; }
    case 6: {
      AdamW k = {P[0], P[1], P[2], P[3], P[4], P[5], P[6], (float)sc[0], (float)sc[1], (float)sc[2], (float)sc[3], (float)sc[4], (float)sc[5], (float)sc[6], (float)sc[7]};
      parallelFor(adamw, &k, s0, chunksOf(s0, MIN_CHUNK_FLOATS));
      break;
    }
    case 8: { Binary k = {P[0], P[1], P[2], s1, s[2], s[3], s[4], s[5], (int)s[6]}; parallelFor(binary, &k, s0, chunksOf(s0, rowsPerChunk(s1))); break; }
  }
  return NULL;
}

/* Output rows [lo, hi) of a transpose: the index of row lo is decomposed once, then counted up. */
typedef struct { const float* in; float* out; uint32_t rank; int64_t ostrIn[6], oshape[6], inner, s; } Transp;
static void transpose_rows(const void* vc, int64_t lo, int64_t hi, int64_t chunk) {
  const Transp* c = (const Transp*)vc;
  const uint32_t rank = c->rank;
  const int64_t inner = c->inner, s = c->s;
  int64_t idx[6] = {0};
  (void)chunk;
  for (int64_t i = (int64_t)rank - 2, o = lo; i >= 0; i--) { idx[i] = o % c->oshape[i]; o /= c->oshape[i]; }
  for (int64_t o = lo; o < hi; o++) {
    int64_t base = 0;
    for (uint32_t i = 0; i + 1 < rank; i++) base += idx[i] * c->ostrIn[i];
    const float* src = c->in + base;
    float* dst = c->out + o * inner;
    if (s == 1) __builtin_memcpy(dst, src, (size_t)inner * 4);
    else for (int64_t j = 0; j < inner; j++) dst[j] = src[j * s];
    for (int i = (int)rank - 2; i >= 0; i--) { if (++idx[i] < c->oshape[i]) break; idx[i] = 0; }
  }
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
  Transp k = {(const float*)((uint8_t*)c.heap + inOff), (float*)((uint8_t*)c.heap + outOff), rank, {0}, {0}, oshape[rank - 1], ostrIn[rank - 1]};
  for (uint32_t i = 0; i < rank; i++) { k.ostrIn[i] = ostrIn[i]; k.oshape[i] = oshape[i]; }
  const int64_t outer = total / k.inner;
  parallelFor(transpose_rows, &k, outer, chunksOf(outer, rowsPerChunk(k.inner)));
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

/* setKernelThreads(n): threads of the elementwise kernels above (parallelFor); results do not depend on it. */
static napi_value SetKernelThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1) { napi_throw_type_error(env, NULL, "course_gemm.setKernelThreads: expected 1 argument"); return NULL; }
  CHECK(napi_get_value_int32(env, argv[0], &n));
  kernelThreads = n < 1 ? 1 : n > MAX_KERNEL_THREADS ? MAX_KERNEL_THREADS : n;
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  napi_value out;
  (void)info;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

/* Bumped with every change of the exports; lib/core/native-kernels.ts refuses another version. */
#define COURSE_NATIVE_VERSION 5

napi_status course_conv_exports(napi_env env, napi_value exports); /* course_conv.c */

/* SHA-256 (first 16 hex digits) of the C sources this build was compiled from, set by build.sh: the
   loader compares it with the sources in the checkout, so a build older than its sources is never used. */
#ifndef COURSE_SRC_HASH
#define COURSE_SRC_HASH "unknown"
#endif

static napi_value Init(napi_env env, napi_value exports) {
  napi_value version, srcHash;
  CHECK(napi_create_int32(env, COURSE_NATIVE_VERSION, &version));
  CHECK(napi_create_string_utf8(env, COURSE_SRC_HASH, NAPI_AUTO_LENGTH, &srcHash));
  napi_property_descriptor props[] = {
    {"version", NULL, NULL, NULL, NULL, version, napi_enumerable, NULL},
    {"srcHash", NULL, NULL, NULL, NULL, srcHash, napi_enumerable, NULL},
    {"sgemmBatch", NULL, SgemmBatch, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"unary", NULL, Unary, NULL, NULL, NULL, napi_default, NULL},
    {"fused", NULL, Fused, NULL, NULL, NULL, napi_default, NULL},
    {"transpose", NULL, Transpose, NULL, NULL, NULL, napi_default, NULL},
    {"setKernelThreads", NULL, SetKernelThreads, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  CHECK(course_conv_exports(env, exports));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
