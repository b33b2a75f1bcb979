// Transpose on CUDA: out = x permuted by `perm` (tfjs's Transpose). Dimensions that move
// together are merged first; a swap of the last two merged dimensions (matrix transposes,
// NHWC <-> NCHW) goes through 32 x 32 shared-memory tiles so that both reads and writes are
// coalesced; other permutations index element by element; an identity is one copy.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace tessera {

constexpr int kCudaMaxTransposeRank = 8;

enum class TransposeKind : int { kCopy = 0, kTiled, kGeneral };
struct TransposeLaunch {
  TransposeKind kind;
  Shape shape;                // the merged input shape
  std::vector<int64_t> perm;  // the merged permutation
};
TransposeLaunch PlanTransposeCuda(const Shape& shape, const std::vector<int64_t>& perm);

void TransposeCuda(DType dtype, const void* x, const Shape& shape, const std::vector<int64_t>& perm, void* out,
                   cudaStream_t stream);

}  // namespace tessera
