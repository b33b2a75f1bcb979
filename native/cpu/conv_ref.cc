// Scalar references for the convolutions: one output element at a time, straight from the
// definition, accumulating in double. Slow on purpose; they are the oracles.
#include "cpu/conv.h"

namespace tessera {
namespace {

bool InRange(int64_t v, int64_t size) { return v >= 0 && v < size; }

// Bias, then activation, for element (row, col) of the [rows, out_c] output matrix.
float FinishRef(float v, int64_t row, int64_t col, int64_t n, const Epilogue& e) {
  if (e.bias) v += e.bias_per_element ? e.bias[row * n + col] : e.bias[col];
  float alpha = e.prelu_alpha ? (e.prelu_per_element ? e.prelu_alpha[row * n + col] : e.prelu_alpha[col]) : 0.0f;
  return ApplyActivation(e.activation, v, e.leaky_alpha, alpha);
}

// One forward output element; `depthwise` reads input channel oc / multiplier only.
double ForwardSum(const ConvGeometry& g, const float* x, const float* filter, int64_t n, int64_t oh, int64_t ow,
                  int64_t oc, bool depthwise) {
  double acc = 0;
  for (int64_t kh = 0; kh < g.filter_h; kh++) {
    int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
    if (!InRange(ih, g.in_h)) continue;
    for (int64_t kw = 0; kw < g.filter_w; kw++) {
      int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
      if (!InRange(iw, g.in_w)) continue;
      const float* xp = x + ((n * g.in_h + ih) * g.in_w + iw) * g.in_c;
      if (depthwise) {
        int64_t c = oc / g.channel_multiplier;
        int64_t q = oc % g.channel_multiplier;
        acc += static_cast<double>(xp[c]) * filter[((kh * g.filter_w + kw) * g.in_c + c) * g.channel_multiplier + q];
      } else {
        for (int64_t ic = 0; ic < g.in_c; ic++) {
          acc += static_cast<double>(xp[ic]) * filter[((kh * g.filter_w + kw) * g.in_c + ic) * g.out_c + oc];
        }
      }
    }
  }
  return acc;
}

void ForwardRef(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& e, bool depthwise) {
  for (int64_t n = 0; n < g.batch; n++) {
    for (int64_t oh = 0; oh < g.out_h; oh++) {
      for (int64_t ow = 0; ow < g.out_w; ow++) {
        int64_t row = (n * g.out_h + oh) * g.out_w + ow;
        for (int64_t oc = 0; oc < g.out_c; oc++) {
          float v = static_cast<float>(ForwardSum(g, x, filter, n, oh, ow, oc, depthwise));
          y[row * g.out_c + oc] = FinishRef(v, row, oc, g.out_c, e);
        }
      }
    }
  }
}

// dx[n, ih, iw, ic]: every (output position, filter tap) pair that reads this input element.
void BackpropInputRef(const ConvGeometry& g, const float* dy, const float* filter, float* dx, bool depthwise) {
  for (int64_t n = 0; n < g.batch; n++) {
    for (int64_t ih = 0; ih < g.in_h; ih++) {
      for (int64_t iw = 0; iw < g.in_w; iw++) {
        for (int64_t ic = 0; ic < g.in_c; ic++) {
          double acc = 0;
          for (int64_t kh = 0; kh < g.filter_h; kh++) {
            int64_t th = ih + g.pad_top - kh * g.dilation_h;  // = oh * stride_h
            if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.out_h) continue;
            int64_t oh = th / g.stride_h;
            for (int64_t kw = 0; kw < g.filter_w; kw++) {
              int64_t tw = iw + g.pad_left - kw * g.dilation_w;
              if (tw < 0 || tw % g.stride_w != 0 || tw / g.stride_w >= g.out_w) continue;
              int64_t ow = tw / g.stride_w;
              const float* dyp = dy + ((n * g.out_h + oh) * g.out_w + ow) * g.out_c;
              if (depthwise) {
                for (int64_t q = 0; q < g.channel_multiplier; q++) {
                  acc += static_cast<double>(dyp[ic * g.channel_multiplier + q]) *
                         filter[((kh * g.filter_w + kw) * g.in_c + ic) * g.channel_multiplier + q];
                }
              } else {
                for (int64_t oc = 0; oc < g.out_c; oc++) {
                  acc += static_cast<double>(dyp[oc]) * filter[((kh * g.filter_w + kw) * g.in_c + ic) * g.out_c + oc];
                }
              }
            }
          }
          dx[((n * g.in_h + ih) * g.in_w + iw) * g.in_c + ic] = static_cast<float>(acc);
        }
      }
    }
  }
}

// dfilter[kh, kw, ic, j] (j: output channel, or the multiplier index when depthwise).
void BackpropFilterRef(const ConvGeometry& g, const float* x, const float* dy, float* dfilter, bool depthwise) {
  int64_t per_ic = depthwise ? g.channel_multiplier : g.out_c;
  for (int64_t kh = 0; kh < g.filter_h; kh++) {
    for (int64_t kw = 0; kw < g.filter_w; kw++) {
      for (int64_t ic = 0; ic < g.in_c; ic++) {
        for (int64_t j = 0; j < per_ic; j++) {
          int64_t oc = depthwise ? ic * g.channel_multiplier + j : j;
          double acc = 0;
          for (int64_t n = 0; n < g.batch; n++) {
            for (int64_t oh = 0; oh < g.out_h; oh++) {
              int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
              if (!InRange(ih, g.in_h)) continue;
              for (int64_t ow = 0; ow < g.out_w; ow++) {
                int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
                if (!InRange(iw, g.in_w)) continue;
                acc += static_cast<double>(x[((n * g.in_h + ih) * g.in_w + iw) * g.in_c + ic]) *
                       dy[((n * g.out_h + oh) * g.out_w + ow) * g.out_c + oc];
              }
            }
          }
          dfilter[((kh * g.filter_w + kw) * g.in_c + ic) * per_ic + j] = static_cast<float>(acc);
        }
      }
    }
  }
}

}  // namespace

void Conv2DRef(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue) {
  ForwardRef(g, x, filter, y, epilogue, false);
}

void Conv2DBackpropInputRef(const ConvGeometry& g, const float* dy, const float* filter, float* dx) {
  BackpropInputRef(g, dy, filter, dx, false);
}

void Conv2DBackpropFilterRef(const ConvGeometry& g, const float* x, const float* dy, float* dfilter) {
  BackpropFilterRef(g, x, dy, dfilter, false);
}

void DepthwiseConv2DRef(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue) {
  ForwardRef(g, x, filter, y, epilogue, true);
}

void DepthwiseConv2DBackpropInputRef(const ConvGeometry& g, const float* dy, const float* filter, float* dx) {
  BackpropInputRef(g, dy, filter, dx, true);
}

void DepthwiseConv2DBackpropFilterRef(const ConvGeometry& g, const float* x, const float* dy, float* dfilter) {
  BackpropFilterRef(g, x, dy, dfilter, true);
}

}  // namespace tessera
