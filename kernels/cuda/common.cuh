// Device-side helpers shared by the kernels in this folder (included by .cu files only):
// the fused activations with tfjs's semantics, launch-size helpers, and the limits the
// host launchers check.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/activation.h"

namespace tessera {
namespace cuda_detail {

// tfjs's activations as native/cpu/gemm_ref.cc's ApplyActivation computes them: exp-based
// ones in double, rounded once.
__device__ __forceinline__ float Activate(CudaActivation act, float x, float leaky_alpha) {
  switch (act) {
    case CudaActivation::kLinear: return x;
    case CudaActivation::kRelu: return x <= 0.0f ? 0.0f : x;  // NaN passes, -0 becomes +0
    case CudaActivation::kRelu6: return x <= 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case CudaActivation::kLeakyRelu: return x < 0.0f ? static_cast<float>(static_cast<double>(leaky_alpha) * x) : x;
    case CudaActivation::kElu: return x >= 0.0f ? x : static_cast<float>(exp(static_cast<double>(x)) - 1.0);
    case CudaActivation::kSigmoid: return static_cast<float>(1.0 / (1.0 + exp(-static_cast<double>(x))));
  }
  return x;
}

// Blocks for `n` items of `per_block`, capped for grid-stride loops (x dimension limit).
inline unsigned int GridFor(int64_t n, int per_block, int64_t cap = 65535LL * 32) {
  int64_t blocks = (n + per_block - 1) / per_block;
  if (blocks < 1) blocks = 1;
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned int>(blocks);
}

__device__ __forceinline__ int64_t GlobalThread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ int64_t GridStride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

}  // namespace cuda_detail
}  // namespace tessera
