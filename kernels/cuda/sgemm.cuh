// SGEMM on CUDA: C[b] = act(op(A[b]) * op(B[b]) + bias) for b in [0, batch), row-major
// operands, op = transpose or not. The default path is exact fp32 (FFMA on the SIMT cores:
// shared-memory tiles, 8x8 register blocks, float4 loads where the operands allow them,
// double-buffered tiles). TF32 and BF16 tensor-core paths (WMMA, fp32 accumulation) are
// opt-in through `precision`: they round the inputs to 10 or 7 mantissa bits.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/activation.h"

namespace tessera {

enum class GemmPrecision : int { kFp32 = 0, kTf32, kBf16 };

struct SgemmArgs {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  // Logical A is m x k (stored k x m when trans_a), B is k x n (stored n x k when trans_b),
  // C is m x n; each batch entry `*_batch_stride` elements after the last (0 broadcasts).
  const float* a = nullptr;
  int64_t a_batch_stride = 0;
  const float* b = nullptr;
  int64_t b_batch_stride = 0;
  float* c = nullptr;
  const float* bias = nullptr;  // n elements, added to every row; nullptr for none
  CudaActivation activation = CudaActivation::kLinear;
  float leaky_alpha = 0.2f;
  GemmPrecision precision = GemmPrecision::kFp32;
};

// Which kernel a call takes and its launch geometry: pure host logic, so the tests check it
// on machines without a GPU.
struct GemmLaunch {
  const char* kernel;  // "sgemm128x128" | "sgemm64x64" | "wmma_tf32" | "wmma_bf16"
  dim3 grid, block;
  bool vector_a, vector_b, vector_c;  // float4 loads of A, B and stores of C
  int64_t batch_chunks;               // launches needed for batches above the grid's z limit
};
GemmLaunch PlanSgemm(const SgemmArgs& args, int sm_count);

// Enqueues the GEMM on `stream` (the caller made the device current). m, n or k of 0 is a
// no-op except that k = 0 writes act(bias) (or zeros), as the CPU engine does.
void SgemmCuda(const SgemmArgs& args, int sm_count, cudaStream_t stream);

}  // namespace tessera
