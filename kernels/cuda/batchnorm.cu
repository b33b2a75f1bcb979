#include "batchnorm.cuh"

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

__device__ __forceinline__ double At(CudaBatchNormParam p, int64_t i, double fallback) {
  return p.data == nullptr ? fallback : static_cast<double>(__ldg(p.data + i % p.length));
}

__global__ void BatchNormKernel(const float* __restrict__ x, int64_t n, CudaBatchNormParam mean,
                                CudaBatchNormParam variance, CudaBatchNormParam offset, CudaBatchNormParam scale,
                                double epsilon, float* __restrict__ out) {
  for (int64_t i = cuda_detail::GlobalThread(); i < n; i += cuda_detail::GridStride()) {
    out[i] = static_cast<float>(At(offset, i, 0.0) + (static_cast<double>(x[i]) - At(mean, i, 0.0)) * At(scale, i, 1.0) /
                                                        sqrt(At(variance, i, 0.0) + epsilon));
  }
}

}  // namespace

void BatchNormCuda(const float* x, int64_t n, CudaBatchNormParam mean, CudaBatchNormParam variance,
                   CudaBatchNormParam offset, CudaBatchNormParam scale, double epsilon, float* out,
                   cudaStream_t stream) {
  if (n == 0) return;
  if (mean.data == nullptr || variance.data == nullptr) throw Error("batchNorm: expected mean and variance");
  for (const CudaBatchNormParam* p : {&mean, &variance, &offset, &scale}) {
    if (p->data != nullptr && p->length < 1) throw Error("batchNorm: expected parameters of at least one element");
  }
  BatchNormKernel<<<cuda_detail::GridFor(n, 256), 256, 0, stream>>>(x, n, mean, variance, offset, scale, epsilon, out);
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace tessera
