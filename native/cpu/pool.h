// 2-D max and average pooling over NHWC tensors and their gradients, matching
// tfjs-backend-cpu (utils/pool_utils.js, MaxPoolGrad.js, AvgPoolGrad.js): windows are
// clipped to the input, max keeps the first strictly greater value (so NaN never wins and
// an all-NaN or empty window gives -Inf), average divides by the number of pixels inside
// the input, and sums run in double in tfjs's order before the final rounding.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace tessera {

// The resolved geometry (tfjs's computePool2DInfo, dilation 1). Input [batch, in_height,
// in_width, channels], output [batch, out_height, out_width, channels]; output pixel
// (r, c) pools input rows [r * stride_height - pad_top, ... + filter_height) (and likewise
// for columns), clipped to the input.
struct Pool2DGeometry {
  int64_t batch, in_height, in_width, channels;
  int64_t out_height, out_width;
  int64_t filter_height, filter_width;
  int64_t stride_height, stride_width;
  int64_t pad_top, pad_left;
};

// Throws naming `op` unless sizes are non-negative and filters and strides positive.
void CheckPool2DGeometry(const Pool2DGeometry& g, const char* op);

enum class PoolType { kMax, kAvg };

// out = pool(x); x and out of dtype `dtype` (float32 or int32: int32 stores as an
// Int32Array would, so an empty window or an int32 average rounds like JS ToInt32).
void Pool2D(PoolType type, DType dtype, const void* x, void* out, const Pool2DGeometry& g);
void Pool2DRef(PoolType type, DType dtype, const void* x, void* out, const Pool2DGeometry& g);

// dx (input shape) = the sum of dy over the windows whose first maximum is that pixel.
void MaxPoolGrad(const float* dy, const float* x, float* dx, const Pool2DGeometry& g);
void MaxPoolGradRef(const float* dy, const float* x, float* dx, const Pool2DGeometry& g);

// dx (input shape) = the sum of dy over the windows covering that pixel, divided by the
// full filter area (padding included), as tfjs does.
void AvgPoolGrad(const float* dy, float* dx, const Pool2DGeometry& g);
void AvgPoolGradRef(const float* dy, float* dx, const Pool2DGeometry& g);

}  // namespace tessera
