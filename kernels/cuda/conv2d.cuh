// 2-D convolution on CUDA (NHWC input, HWIO filter, as tfjs lays them out) and its two
// gradients, each as an implicit GEMM: the im2col matrix is never written, its elements are
// computed from the tensor indices as the tiles are loaded.
//   forward:        y[n,oh,ow,oc]    = sum_{fh,fw,ic} x[n, oh*sh-pt+fh*dh, ow*sw-pl+fw*dw, ic] * w[fh,fw,ic,oc]
//                   (M = N*OH*OW, N = OC, K = FH*FW*IC), then + bias[oc] and the activation
//   input grad:     dx[n,ih,iw,ic]   = sum_{fh,fw,oc} dy[n,oh,ow,oc] * w[fh,fw,ic,oc] over the (oh, ow)
//                   with oh*sh-pt+fh*dh = ih (M = N*IH*IW, N = IC, K = FH*FW*OC)
//   filter grad:    dw[fh,fw,ic,oc]  = sum_{n,oh,ow} x[n, oh*sh-pt+fh*dh, ...] * dy[n,oh,ow,oc]
//                   (M = FH*FW*IC, N = OC, K = N*OH*OW), split over K into a workspace when the
//                   output alone has too few tiles to fill the GPU, then summed in a fixed order.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "cuda/activation.h"

namespace tessera {

struct CudaConv2DGeometry {
  int64_t batch, in_height, in_width, in_channels;
  int64_t out_height, out_width, out_channels;
  int64_t filter_height, filter_width;
  int64_t stride_height, stride_width, dilation_height, dilation_width;
  int64_t pad_top, pad_left;
};

enum class ConvPass : int { kForward = 0, kInput, kFilter };

struct ConvLaunch {
  int64_t m, n, k;     // the implicit GEMM's sizes
  dim3 grid, block;    // grid.x over M tiles, grid.y over N tiles, grid.z over K splits
  int64_t k_per_split; // a multiple of the K slice; K itself when not split
  size_t workspace_floats;  // the split partial sums (filter pass), 0 when not split
};
ConvLaunch PlanConv2D(ConvPass pass, const CudaConv2DGeometry& g, int sm_count);

void Conv2DCuda(const CudaConv2DGeometry& g, const float* x, const float* filter, const float* bias,
                CudaActivation activation, float leaky_alpha, float* y, int sm_count, cudaStream_t stream);
void Conv2DBackpropInputCuda(const CudaConv2DGeometry& g, const float* dy, const float* filter, float* dx,
                             int sm_count, cudaStream_t stream);
// `workspace` holds PlanConv2D(kFilter, ...).workspace_floats floats (may be null when that is 0).
void Conv2DBackpropFilterCuda(const CudaConv2DGeometry& g, const float* x, const float* dy, float* dfilter,
                              float* workspace, int sm_count, cudaStream_t stream);

}  // namespace tessera
