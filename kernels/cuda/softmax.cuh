// Softmax over the last axis of a [rows, cols] float32 array on CUDA, one block per row:
// the row's max, the sum of exp(x - max), then exp(x - max) / sum, each step rounded the way
// tfjs-backend-cpu rounds it (native/cpu/reduce.h's SoftmaxRef); only the order of the
// (double) sum differs. Block-wide max and sum reduce through warp shuffles.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace tessera {

void SoftmaxCuda(const float* logits, int64_t rows, int64_t cols, float* out, cudaStream_t stream);

}  // namespace tessera
