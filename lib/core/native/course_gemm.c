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
#define COURSE_NATIVE_VERSION 2

static napi_value Init(napi_env env, napi_value exports) {
  napi_value version;
  CHECK(napi_create_int32(env, COURSE_NATIVE_VERSION, &version));
  napi_property_descriptor props[] = {
    {"version", NULL, NULL, NULL, NULL, version, napi_enumerable, NULL},
    {"sgemmBatch", NULL, SgemmBatch, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"unary", NULL, Unary, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
