#include "softmax.cuh"

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

// NaN wins, as in SoftmaxRef's `isnan(x) || x > m`.
__device__ __forceinline__ double NanMax(double a, double b) { return (isnan(a) || isnan(b)) ? nan("") : (a > b ? a : b); }

template <bool kMax>
__device__ double BlockReduce(double v, double* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    const double other = __shfl_down_sync(0xffffffffu, v, offset);
    v = kMax ? NanMax(v, other) : v + other;
  }
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < kWarps ? scratch[lane] : (kMax ? -INFINITY : 0.0);
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
      const double other = __shfl_down_sync(0xffffffffu, v, offset);
      v = kMax ? NanMax(v, other) : v + other;
    }
    if (lane == 0) scratch[kWarps] = v;
  }
  __syncthreads();
  const double result = scratch[kWarps];
  // scratch is reused by the next reduction.
  __syncthreads();
  return result;
}

__global__ void __launch_bounds__(kBlock) SoftmaxRows(const float* __restrict__ logits, int64_t rows, int64_t cols,
                                                      float* __restrict__ out) {
  __shared__ double scratch[kWarps + 1];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* x = logits + r * cols;
    float* y = out + r * cols;
    double m = -INFINITY;
    for (int64_t i = threadIdx.x; i < cols; i += kBlock) m = NanMax(m, x[i]);
    const float mf = static_cast<float>(BlockReduce<true>(m, scratch));
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < cols; i += kBlock) {
      const float d = static_cast<float>(static_cast<double>(x[i]) - mf);
      const float e = static_cast<float>(exp(static_cast<double>(d)));
      y[i] = e;
      sum += e;
    }
    const float total = static_cast<float>(BlockReduce<false>(sum, scratch));
    // Each thread rescales the elements it wrote itself: no barrier needed before.
    for (int64_t i = threadIdx.x; i < cols; i += kBlock) y[i] = static_cast<float>(static_cast<double>(y[i]) / total);
  }
}

}  // namespace

void SoftmaxCuda(const float* logits, int64_t rows, int64_t cols, float* out, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  SoftmaxRows<<<cuda_detail::GridFor(rows, 1), kBlock, 0, stream>>>(logits, rows, cols, out);
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace tessera
