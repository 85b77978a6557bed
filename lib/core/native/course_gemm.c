/*
 * course_gemm: a tiny N-API addon that runs single-precision GEMMs with OpenBLAS directly on the
 * tfjs wasm backend's heap (an ArrayBuffer), so the wasm backend's BatchMatMul kernel can be served
 * by a native BLAS (lib/core/native-gemm.ts). Built by scripts/bench/build-native-gemm.sh:
 *   gcc -O2 -shared -fPIC -I/usr/include/node course_gemm.c -lopenblas -o build/native/course_gemm.node
 *
 * sgemmBatch(heap, batch, M, N, K, aOff, bOff, cOff, aStride, bStride, transA, transB)
 *   for i in [0, batch): C_i[M,N] = op(A_i) · op(B_i), row-major float32, byte offsets into heap;
 *   aStride/bStride = elements between batch items (0 = broadcast), C is contiguous.
 * setThreads(n), getThreads() → OpenBLAS thread count.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "course_gemm: N-API call failed: " #call); return NULL; } } while (0)

static napi_value SgemmBatch(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) { napi_throw_type_error(env, NULL, "course_gemm.sgemmBatch: expected 12 arguments"); return NULL; }
  void* heap = NULL;
  size_t heapBytes = 0;
  bool isAb = false;
  CHECK(napi_is_arraybuffer(env, argv[0], &isAb));
  if (!isAb) { napi_throw_type_error(env, NULL, "course_gemm.sgemmBatch: heap must be an ArrayBuffer"); return NULL; }
  CHECK(napi_get_arraybuffer_info(env, argv[0], &heap, &heapBytes));
  double v[9];
  for (int i = 0; i < 9; i++) CHECK(napi_get_value_double(env, argv[1 + i], &v[i]));
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, argv[10], &ta));
  CHECK(napi_get_value_bool(env, argv[11], &tb));
  const int64_t batch = (int64_t)v[0], M = (int64_t)v[1], N = (int64_t)v[2], K = (int64_t)v[3];
  const int64_t aOff = (int64_t)v[4], bOff = (int64_t)v[5], cOff = (int64_t)v[6], aStride = (int64_t)v[7], bStride = (int64_t)v[8];
  if (batch < 0 || M < 0 || N < 0 || K < 0 || aOff < 0 || bOff < 0 || cOff < 0 || aStride < 0 || bStride < 0) {
    napi_throw_range_error(env, NULL, "course_gemm.sgemmBatch: negative size or offset"); return NULL;
  }
  const int64_t last = batch > 0 ? batch - 1 : 0;
  if (aOff + 4 * (last * aStride + M * K) > (int64_t)heapBytes || bOff + 4 * (last * bStride + K * N) > (int64_t)heapBytes ||
      cOff + 4 * batch * M * N > (int64_t)heapBytes) {
    napi_throw_range_error(env, NULL, "course_gemm.sgemmBatch: operands outside the heap"); return NULL;
  }
  const float* A = (const float*)((uint8_t*)heap + aOff);
  const float* B = (const float*)((uint8_t*)heap + bOff);
  float* C = (float*)((uint8_t*)heap + cOff);
  const int lda = ta ? (int)M : (int)K, ldb = tb ? (int)K : (int)N;
  for (int64_t i = 0; i < batch; i++) {
    if (K == 0) { for (int64_t j = 0; j < M * N; j++) C[i * M * N + j] = 0.0f; continue; }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
                1.0f, A + i * aStride, lda, B + i * bStride, ldb, 0.0f, C + i * M * N, (int)N);
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

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"sgemmBatch", NULL, SgemmBatch, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, 3, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
