#include "pool.cuh"

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

using cuda_detail::GlobalThread;
using cuda_detail::GridFor;
using cuda_detail::GridStride;

// One thread per output element (channel fastest, so a warp reads consecutive channels).
template <bool kMax>
__global__ void PoolForward(const float* __restrict__ x, float* __restrict__ out, Pool2DGeometry g, int64_t n,
                            int32_t* __restrict__ positions) {
  for (int64_t e = GlobalThread(); e < n; e += GridStride()) {
    const int64_t d = e % g.channels;
    const int64_t yc = (e / g.channels) % g.out_width;
    const int64_t yr = (e / (g.channels * g.out_width)) % g.out_height;
    const int64_t b = e / (g.channels * g.out_width * g.out_height);
    const int64_t r_corner = yr * g.stride_height - g.pad_top;
    const int64_t c_corner = yc * g.stride_width - g.pad_left;
    const int64_t r_min = r_corner > 0 ? r_corner : 0;
    const int64_t c_min = c_corner > 0 ? c_corner : 0;
    const int64_t r_max = min(g.in_height, g.filter_height + r_corner);
    const int64_t c_max = min(g.in_width, g.filter_width + c_corner);
    double max_value = -INFINITY, sum = 0, count = 0;
    int32_t position = -1;
    for (int64_t xr = r_min; xr < r_max; xr++) {
      for (int64_t xc = c_min; xc < c_max; xc++) {
        const double pixel = x[((b * g.in_height + xr) * g.in_width + xc) * g.channels + d];
        if (kMax) {
          if (pixel > max_value) {
            max_value = pixel;
            position = static_cast<int32_t>((xr - r_corner) * g.filter_width + (xc - c_corner));
          }
        } else {
          sum += pixel;
          count++;
        }
      }
    }
    if (positions != nullptr) positions[e] = position;
    if (out != nullptr) out[e] = static_cast<float>(kMax ? max_value : sum / count);
  }
}

// tfjs's gradient loop: each dx pixel visits the windows (dy pixels) that cover it;
// `positions` (MaxPoolGrad) selects the windows whose first max it is, nullptr (AvgPoolGrad)
// takes them all, scaled by `multiplier`.
__global__ void PoolGrad(const float* __restrict__ dy, const int32_t* __restrict__ positions, float* __restrict__ dx,
                         Pool2DGeometry g, int64_t n, double multiplier) {
  for (int64_t e = GlobalThread(); e < n; e += GridStride()) {
    const int64_t d = e % g.channels;
    const int64_t xc = (e / g.channels) % g.in_width;
    const int64_t xr = (e / (g.channels * g.in_width)) % g.in_height;
    const int64_t b = e / (g.channels * g.in_width * g.in_height);
    double dot = 0;
    for (int64_t wr = 0; wr < g.filter_height; wr++) {
      const int64_t num_r = xr + g.pad_top - wr;  // window row wr of dy row num_r / stride
      if (num_r < 0 || num_r % g.stride_height != 0 || num_r / g.stride_height >= g.out_height) continue;
      const int64_t yr = num_r / g.stride_height;
      for (int64_t wc = 0; wc < g.filter_width; wc++) {
        const int64_t num_c = xc + g.pad_left - wc;
        if (num_c < 0 || num_c % g.stride_width != 0 || num_c / g.stride_width >= g.out_width) continue;
        const int64_t yc = num_c / g.stride_width;
        const int64_t dy_index = ((b * g.out_height + yr) * g.out_width + yc) * g.channels + d;
        if (positions == nullptr || positions[dy_index] == wr * g.filter_width + wc) dot += dy[dy_index];
      }
    }
    dx[e] = static_cast<float>(dot * multiplier);
  }
}

}  // namespace

void Pool2DCuda(PoolType type, const float* x, float* out, const Pool2DGeometry& g, cudaStream_t stream) {
  CheckPool2DGeometry(g, "pool2d");
  const int64_t n = g.batch * g.out_height * g.out_width * g.channels;
  if (n == 0) return;
  if (type == PoolType::kMax) PoolForward<true><<<GridFor(n, 256), 256, 0, stream>>>(x, out, g, n, nullptr);
  else PoolForward<false><<<GridFor(n, 256), 256, 0, stream>>>(x, out, g, n, nullptr);
  TESSERA_CUDA_CHECK_LAUNCH();
}

size_t MaxPoolGradWorkspaceBytes(const Pool2DGeometry& g) {
  return static_cast<size_t>(g.batch * g.out_height * g.out_width * g.channels) * sizeof(int32_t);
}

void MaxPoolGradCuda(const float* dy, const float* x, float* dx, void* positions, const Pool2DGeometry& g,
                     cudaStream_t stream) {
  CheckPool2DGeometry(g, "maxPoolGrad");
  const int64_t windows = g.batch * g.out_height * g.out_width * g.channels;
  const int64_t n = g.batch * g.in_height * g.in_width * g.channels;
  if (n == 0) return;
  int32_t* pos = static_cast<int32_t*>(positions);
  if (windows > 0) {
    if (pos == nullptr) throw Error("maxPoolGrad: expected a workspace for the max positions");
    PoolForward<true><<<GridFor(windows, 256), 256, 0, stream>>>(x, nullptr, g, windows, pos);
    TESSERA_CUDA_CHECK_LAUNCH();
  }
  PoolGrad<<<GridFor(n, 256), 256, 0, stream>>>(dy, pos, dx, g, n, 1.0);
  TESSERA_CUDA_CHECK_LAUNCH();
}

void AvgPoolGradCuda(const float* dy, float* dx, const Pool2DGeometry& g, cudaStream_t stream) {
  CheckPool2DGeometry(g, "avgPoolGrad");
  const int64_t n = g.batch * g.in_height * g.in_width * g.channels;
  if (n == 0) return;
  const double multiplier = 1.0 / static_cast<double>(g.filter_height * g.filter_width);
  PoolGrad<<<GridFor(n, 256), 256, 0, stream>>>(dy, nullptr, dx, g, n, multiplier);
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace tessera
