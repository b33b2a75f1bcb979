// GatherV2 on CUDA: out[b, o, i, j] = x[b, o, indices[b, i], j], with x viewed as
// [batch, outer, axis_size, inner] and indices as [batch, count] (tfjs's batchDims split).
// An index outside [0, axis_size) writes zeros: the device cannot throw, so the tfjs backend
// checks indices whose values it holds on the CPU before it launches.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace tessera {

struct CudaGatherGeometry {
  int64_t batch, outer, axis_size, inner, count;
};

void GatherCuda(DType dtype, const void* x, const int32_t* indices, const CudaGatherGeometry& g, void* out,
                cudaStream_t stream);

}  // namespace tessera
