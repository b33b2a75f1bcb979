// FusedBatchNorm (inference form) on CUDA, as tfjs-backend-cpu computes it
// (native/cpu/batchnorm.h): out[i] = offset[i % |offset|] + (x[i] - mean[i % |mean|]) *
// scale[i % |scale|] / sqrt(variance[i % |variance|] + epsilon), in double, rounded once.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace tessera {

struct CudaBatchNormParam {
  const float* data;  // nullptr for offset (0) and scale (1) when tfjs passes none
  int64_t length;
};

void BatchNormCuda(const float* x, int64_t n, CudaBatchNormParam mean, CudaBatchNormParam variance,
                   CudaBatchNormParam offset, CudaBatchNormParam scale, double epsilon, float* out,
                   cudaStream_t stream);

}  // namespace tessera
