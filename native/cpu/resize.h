// Image resizing over NHWC tensors and its gradients, matching tfjs-backend-cpu's
// ResizeBilinear, ResizeNearestNeighbor and their Grad kernels: source coordinates,
// rounding (Math.round / Math.floor) and interpolation are computed in double exactly as
// there, then rounded to float32 once.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace tessera {

struct ResizeGeometry {
  int64_t batch, in_height, in_width, channels;
  int64_t out_height, out_width;
  bool align_corners;
  bool half_pixel_centers;
};

// Throws naming `op` unless every size is in [0, 2^31) and, for the forward kernels, the
// input has pixels whenever the output does (tfjs reads out of bounds there).
void CheckResizeGeometry(const ResizeGeometry& g, bool forward, const char* op);

// images [batch, in_height, in_width, channels] of `dtype` (float32 or int32) ->
// out [batch, out_height, out_width, channels] float32. Throws for align_corners together
// with half_pixel_centers, where tfjs reads past the image.
void ResizeBilinear(DType dtype, const void* images, float* out, const ResizeGeometry& g);
void ResizeBilinearRef(DType dtype, const void* images, float* out, const ResizeGeometry& g);

// images -> out of the same dtype. tfjs gathers into a Float32Array first, so int32
// values pass through float32 (and then ToInt32) on their way out.
void ResizeNearestNeighbor(DType dtype, const void* images, void* out, const ResizeGeometry& g);
void ResizeNearestNeighborRef(DType dtype, const void* images, void* out, const ResizeGeometry& g);

// dy [batch, out_height, out_width, channels] -> dx [batch, in_height, in_width, channels].
// Both ignore half_pixel_centers, as tfjs-backend-cpu does. The nearest-neighbor gradient
// reads each image's own dy; tfjs-backend-cpu offsets dy by the images' batch stride, which
// is only right for a single image (or an unchanged size).
void ResizeBilinearGrad(const float* dy, float* dx, const ResizeGeometry& g);
void ResizeBilinearGradRef(const float* dy, float* dx, const ResizeGeometry& g);
void ResizeNearestNeighborGrad(const float* dy, float* dx, const ResizeGeometry& g);
void ResizeNearestNeighborGradRef(const float* dy, float* dx, const ResizeGeometry& g);

}  // namespace tessera
