// 2-D max and average pooling (NHWC, float32) and their gradients on CUDA, with
// tfjs-backend-cpu's semantics (native/cpu/pool.h): windows clipped to the input, max keeps
// the first strictly greater value (an all-NaN or empty window gives -Inf), average divides
// by the pixels inside the input, and AvgPoolGrad divides by the full filter area.
// The gradients gather (one thread per dx element, no atomics), so they are deterministic:
// MaxPoolGrad first records each window's max position, then each dx pixel sums the dy of
// the windows whose max it is.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "cpu/pool.h"

namespace tessera {

void Pool2DCuda(PoolType type, const float* x, float* out, const Pool2DGeometry& g, cudaStream_t stream);
// `positions` holds MaxPoolGradWorkspaceBytes(g) bytes.
size_t MaxPoolGradWorkspaceBytes(const Pool2DGeometry& g);
void MaxPoolGradCuda(const float* dy, const float* x, float* dx, void* positions, const Pool2DGeometry& g,
                     cudaStream_t stream);
void AvgPoolGradCuda(const float* dy, float* dx, const Pool2DGeometry& g, cudaStream_t stream);

}  // namespace tessera
