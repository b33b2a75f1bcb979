// 2-D convolutions over NHWC tensors (tfjs's 'channelsLast'), forward and gradients, as
// tfjs-backend-cpu defines them: positions outside the input contribute nothing (they are
// skipped, never multiplied as zeros, so an Inf weight next to the border stays an Inf
// product only where tfjs forms that product).
//
// Regular convolutions run the direct engine (conv_direct.cc: register tiles reading the NHWC
// tensors in place, no im2col matrix) on AVX2 and AVX-512, layers of few input channels the
// small-K forward (conv_smallk.cc: packed im2col tiles through the GEMM microkernels), and
// im2col + Sgemm elsewhere; the kernel lab (conv_lab.h) keeps the stages side by side. Depthwise ones are kernels vectorized
// across channels that reproduce tfjs's rounding exactly (conv_depthwise.cc).
#pragma once
#include <cstdint>

#include "cpu/gemm.h"

namespace tessera {

// The resolved geometry (tfjs's computeConv2DInfo output): x is [batch, in_h, in_w, in_c],
// the filter [filter_h, filter_w, in_c, out_c] (depthwise: [filter_h, filter_w, in_c,
// channel_multiplier] with out_c = in_c * channel_multiplier), y is [batch, out_h, out_w, out_c].
// Input row of output row oh, filter row kh: oh * stride_h - pad_top + kh * dilation_h
// (columns alike); bottom and right padding follow from out_h and out_w.
struct ConvGeometry {
  int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int64_t filter_h = 0, filter_w = 0;
  int64_t out_h = 0, out_w = 0, out_c = 0;
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t channel_multiplier = 1;  // depthwise only
};

// y = conv(x, filter), then the epilogue (bias and activation per element of y viewed as a
// [batch*out_h*out_w, out_c] matrix, as Sgemm applies it).
void Conv2D(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue);
// dx (the shape of x) from dy (the shape of y).
void Conv2DBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx);
// dfilter (the shape of the filter) from x and dy.
void Conv2DBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dfilter);

// Depthwise: output channel c * channel_multiplier + q reads input channel c only. Bit for
// bit tfjs-backend-cpu's results (forward: float accumulation in tfjs's tap order; the
// gradients: double accumulation in its order).
void DepthwiseConv2D(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue);
void DepthwiseConv2DBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx);
void DepthwiseConv2DBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dfilter);

// Scalar references (direct loops, double accumulation): the test oracles.
void Conv2DRef(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue);
void Conv2DBackpropInputRef(const ConvGeometry& g, const float* dy, const float* filter, float* dx);
void Conv2DBackpropFilterRef(const ConvGeometry& g, const float* x, const float* dy, float* dfilter);
void DepthwiseConv2DRef(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue);
void DepthwiseConv2DBackpropInputRef(const ConvGeometry& g, const float* dy, const float* filter, float* dx);
void DepthwiseConv2DBackpropFilterRef(const ConvGeometry& g, const float* x, const float* dy, float* dfilter);

}  // namespace tessera
