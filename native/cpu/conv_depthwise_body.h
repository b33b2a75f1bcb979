// The depthwise kernels, written once over a vector of doubles and compiled per ISA: each
// kernel file defines `Vec` (its double vector and conversions) and TESSERA_DEPTHWISE_TARGET
// (its target attribute), then includes this body inside its own namespace. Only for those
// files (conv_avx512.cc, conv_avx2.cc, conv_depthwise.cc).
//
// Bit for bit tfjs-backend-cpu: the product of two floats is exact in double, so one fused
// multiply-add in double is exactly JS's `sum + x * w`. The forward rounds its sum to float
// after every tap, as tfjs's += into a Float32Array does; the gradients keep a double sum and
// round once. Every output element sees its terms in tfjs's order: vectors run across
// channels (each lane is its own element) and register blocks across pixels, never across
// the terms of one sum.
//
// The row kernels list an output pixel's terms once (input offset, filter offset) and run
// every pixel that has the same list (the interior of the row) in blocks of kPixels; the few
// border pixels get lists of their own.
//
// Vec provides: D (kLanes doubles), Zero(), Load(const float*, n) (n <= kLanes floats widened,
// the other lanes zero), LoadD(const double*, n), Store(float*, n, D) (rounded to float),
// Fma(a, b, c) (a * b + c rounded once), RoundToFloat(D).

// Channels per block: kVecs vectors of doubles.
constexpr int kVecs = 2;
constexpr int kBlock = kVecs * Vec::kLanes;
// Pixels per register block: with kVecs vectors each, enough independent sums to cover the
// latency of the forward's chain (multiply-add, then the round trip through float).
constexpr int kPixels = 4;

// Lanes of vector v in a block of `count` channels.
TESSERA_DEPTHWISE_TARGET inline __attribute__((always_inline)) int64_t LanesOf(int64_t count, int v) {
  return std::max<int64_t>(0, std::min<int64_t>(Vec::kLanes, count - v * Vec::kLanes));
}

// out[p] = the sums over the terms for kP pixels (in_step and out_step floats apart), one block
// of channels (kFull: all kBlock lanes, else `count`). kRound: the forward's rounding of each
// partial sum to float.
template <int kP, bool kFull, bool kRound>
TESSERA_DEPTHWISE_TARGET inline __attribute__((always_inline)) void RunPixels(const DepthwiseTerm* terms, int64_t n,
                                                                             const float* in, int64_t in_step,
                                                                             const double* filter, float* out,
                                                                             int64_t out_step, int64_t count) {
  using D = typename Vec::D;
  D acc[kP][kVecs];
#pragma GCC unroll 8
  for (int p = 0; p < kP; p++) {
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; v++) acc[p][v] = Vec::Zero();
  }
  for (int64_t t = 0; t < n; t++) {
    const float* x = in + terms[t].in;
    const double* wp = filter + terms[t].w;
    D w[kVecs];
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; v++) w[v] = Vec::LoadD(wp + v * Vec::kLanes, kFull ? Vec::kLanes : LanesOf(count, v));
#pragma GCC unroll 8
    for (int p = 0; p < kP; p++) {
#pragma GCC unroll 2
      for (int v = 0; v < kVecs; v++) {
        const D xv = Vec::Load(x + p * in_step + v * Vec::kLanes, kFull ? Vec::kLanes : LanesOf(count, v));
        const D sum = Vec::Fma(xv, w[v], acc[p][v]);
        acc[p][v] = kRound ? Vec::RoundToFloat(sum) : sum;
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < kP; p++) {
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; v++) {
      Vec::Store(out + p * out_step + v * Vec::kLanes, kFull ? Vec::kLanes : LanesOf(count, v), acc[p][v]);
    }
  }
}

// Pixels [begin, end) that share the terms, every block of channels.
template <bool kRound>
TESSERA_DEPTHWISE_TARGET void RunSpan(const DepthwiseTerm* terms, int64_t n, const float* in, int64_t in_step,
                                      const double* filter, float* out, int64_t out_step, int64_t begin, int64_t end,
                                      int64_t channels) {
  in += begin * in_step;
  out += begin * out_step;
  const int64_t pixels = end - begin;
  int64_t c0 = 0;
  for (; c0 + kBlock <= channels; c0 += kBlock) {
    int64_t i = 0;
    for (; i + kPixels <= pixels; i += kPixels) {
      RunPixels<kPixels, true, kRound>(terms, n, in + i * in_step + c0, in_step, filter + c0, out + i * out_step + c0,
                                       out_step, kBlock);
    }
    for (; i < pixels; i++) {
      RunPixels<1, true, kRound>(terms, n, in + i * in_step + c0, in_step, filter + c0, out + i * out_step + c0,
                                 out_step, kBlock);
    }
  }
  if (c0 < channels) {
    for (int64_t i = 0; i < pixels; i++) {
      RunPixels<1, false, kRound>(terms, n, in + i * in_step + c0, in_step, filter + c0, out + i * out_step + c0,
                                  out_step, channels - c0);
    }
  }
}

// y row `oh` of image `in` (input pixels `stride` floats apart, one value per output channel:
// x itself, or x widened to the channel multiplier), `filter` in double, [taps][channels];
// `terms` holds filter_h * filter_w. tfjs's order: filter rows, then filter columns.
TESSERA_DEPTHWISE_TARGET void ForwardRow(const ConvGeometry& g, const float* in, int64_t stride, const double* filter,
                                         int64_t channels, int64_t oh, float* y_row, DepthwiseTerm* terms) {
  const int64_t step = g.stride_w * stride;
  // Terms of output column ow, offsets from its own base ow * step.
  auto list = [&](int64_t ow) {
    int64_t n = 0;
    for (int64_t kh = 0; kh < g.filter_h; kh++) {
      const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) continue;
      for (int64_t kw = 0; kw < g.filter_w; kw++) {
        const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
        if (iw < 0 || iw >= g.in_w) continue;
        terms[n++] = DepthwiseTerm{(ih * g.in_w + iw) * stride - ow * step, (kh * g.filter_w + kw) * channels};
      }
    }
    return n;
  };
  // The columns whose every filter column reads inside the image share one list.
  const int64_t lo = std::min(g.out_w, std::max<int64_t>(0, CeilDiv(g.pad_left, g.stride_w)));
  const int64_t hi =
      std::max(lo, std::min(g.out_w, FloorDiv(g.in_w - 1 + g.pad_left - (g.filter_w - 1) * g.dilation_w, g.stride_w) + 1));
  for (int64_t ow = 0; ow < lo; ow++) RunSpan<true>(terms, list(ow), in, step, filter, y_row, channels, ow, ow + 1, channels);
  if (lo < hi) RunSpan<true>(terms, list(lo), in, step, filter, y_row, channels, lo, hi, channels);
  for (int64_t ow = hi; ow < g.out_w; ow++) {
    RunSpan<true>(terms, list(ow), in, step, filter, y_row, channels, ow, ow + 1, channels);
  }
}

// dx row `ih` of one image from its dy (`mul` planes of `channels` values per output pixel:
// dy itself when mul is 1, else dy with each channel's multiplier values made planes) and
// `filter` in double, [taps][mul][channels] alike; `terms` holds filter_h * filter_w * mul.
// tfjs's order: output rows, output columns (filter columns descending), multiplier. The
// columns iw = phase + k * stride_w of one phase read the same filter columns, at output
// columns one apart for consecutive k.
TESSERA_DEPTHWISE_TARGET void BackpropInputRow(const ConvGeometry& g, const float* dy, const double* filter,
                                               int64_t channels, int64_t mul, int64_t ih, float* dx_row,
                                               DepthwiseTerm* terms) {
  const int64_t pixel = mul * channels;
  for (int64_t phase = 0; phase < std::min(g.stride_w, g.in_w); phase++) {
    const int64_t columns = (g.in_w - phase + g.stride_w - 1) / g.stride_w;
    // Terms of column k of the phase, offsets from its own base k * pixel; [lo, hi) bounds
    // the columns whose every term reads inside dy.
    int64_t lo = 0, hi = columns;
    auto list = [&](int64_t k, bool all) {
      int64_t n = 0;
      for (int64_t kh = g.filter_h - 1; kh >= 0; kh--) {
        const int64_t th = ih + g.pad_top - kh * g.dilation_h;
        if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.out_h) continue;
        const int64_t oh = th / g.stride_h;
        for (int64_t kw = g.filter_w - 1; kw >= 0; kw--) {
          const int64_t tw = phase + g.pad_left - kw * g.dilation_w;
          if (FloorDiv(tw, g.stride_w) * g.stride_w != tw) continue;
          const int64_t ow0 = FloorDiv(tw, g.stride_w);  // the output column of k = 0
          if (all) {
            lo = std::max(lo, -ow0);
            hi = std::min(hi, g.out_w - ow0);
          } else if (ow0 + k < 0 || ow0 + k >= g.out_w) {
            continue;
          }
          for (int64_t q = 0; q < mul; q++) {
            terms[n++] = DepthwiseTerm{(oh * g.out_w + ow0) * pixel + q * channels, (kh * g.filter_w + kw) * pixel + q * channels};
          }
        }
      }
      return n;
    };
    const int64_t shared = list(0, true);
    hi = std::max(lo, hi);
    float* out = dx_row + phase * channels;
    const int64_t out_step = g.stride_w * channels;
    if (lo < hi) RunSpan<false>(terms, shared, dy, pixel, filter, out, out_step, lo, hi, channels);
    for (int64_t k = 0; k < columns; k++) {
      if (k == lo && lo < hi) k = hi;
      if (k >= columns) break;
      RunSpan<false>(terms, list(k, false), dy, pixel, filter, out, out_step, k, k + 1, channels);
    }
  }
}

// dfilter for `taps` taps (tap indices in `tap`, kTaps of them) and channels [c0, c0 + count),
// count <= kBlock, over the whole batch: x (pixels `stride` apart, one value per output channel
// as in the forward) times dy, summed in double in tfjs's order (batch, output rows, output
// columns), into dfilter [taps][channels].
// One output column's terms for every tap (kBorder: checking which taps read inside).
template <int kTaps, bool kBorder>
TESSERA_DEPTHWISE_TARGET inline __attribute__((always_inline)) void FilterColumn(
    const float* dy, const float* const (&rows)[kTaps], int64_t offset, const bool (&inside)[kTaps],
    const Span (&span)[kTaps], int64_t ow, const int64_t (&lanes)[kVecs], typename Vec::D (&acc)[kTaps][kVecs]) {
  typename Vec::D d[kVecs];
#pragma GCC unroll 2
  for (int v = 0; v < kVecs; v++) d[v] = Vec::Load(dy + v * Vec::kLanes, lanes[v]);
#pragma GCC unroll 16
  for (int t = 0; t < kTaps; t++) {
    if (!inside[t] || (kBorder && (ow < span[t].begin || ow >= span[t].end))) continue;
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; v++) {
      acc[t][v] = Vec::Fma(Vec::Load(rows[t] + offset + v * Vec::kLanes, lanes[v]), d[v], acc[t][v]);
    }
  }
}

template <int kTaps, bool kFull>
TESSERA_DEPTHWISE_TARGET inline __attribute__((always_inline)) void BackpropFilterBody(
    const ConvGeometry& g, const float* in, int64_t stride, const float* dy, int64_t channels, const int64_t* tap,
    int64_t c0, int64_t count, float* dfilter) {
  using D = typename Vec::D;
  D acc[kTaps][kVecs];
  int64_t kh[kTaps], x_col[kTaps];
  Span span[kTaps];
  // The output columns every tap reads inside: [lo, hi); all of them span [first, last).
  int64_t lo = 0, hi = g.out_w, first = g.out_w, last = 0;
#pragma GCC unroll 16
  for (int t = 0; t < kTaps; t++) {
    kh[t] = tap[t] / g.filter_w;
    const int64_t kw = tap[t] % g.filter_w;
    span[t] = ValidOutputColumns(g, kw);
    x_col[t] = (kw * g.dilation_w - g.pad_left) * stride;
    lo = std::max(lo, span[t].begin);
    hi = std::min(hi, span[t].end);
    first = std::min(first, span[t].begin);
    last = std::max(last, span[t].end);
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; v++) acc[t][v] = Vec::Zero();
  }
  hi = std::max(lo, hi);
  int64_t lanes[kVecs];
#pragma GCC unroll 2
  for (int v = 0; v < kVecs; v++) lanes[v] = kFull ? Vec::kLanes : LanesOf(count, v);
  const int64_t step = g.stride_w * stride;
  for (int64_t n = 0; n < g.batch; n++) {
    const float* image = in + n * g.in_h * g.in_w * stride + c0;
    for (int64_t oh = 0; oh < g.out_h; oh++) {
      const float* rows[kTaps];
      bool inside[kTaps];
#pragma GCC unroll 16
      for (int t = 0; t < kTaps; t++) {
        const int64_t ih = oh * g.stride_h - g.pad_top + kh[t] * g.dilation_h;
        inside[t] = ih >= 0 && ih < g.in_h;
        rows[t] = image + ih * g.in_w * stride + x_col[t];
      }
      const float* dy_row = dy + ((n * g.out_h + oh) * g.out_w) * channels + c0;
      for (int64_t ow = first; ow < std::min(lo, last); ow++) {
        FilterColumn<kTaps, true>(dy_row + ow * channels, rows, ow * step, inside, span, ow, lanes, acc);
      }
      for (int64_t ow = lo; ow < hi; ow++) {
        FilterColumn<kTaps, false>(dy_row + ow * channels, rows, ow * step, inside, span, ow, lanes, acc);
      }
      for (int64_t ow = std::max(hi, first); ow < last; ow++) {
        FilterColumn<kTaps, true>(dy_row + ow * channels, rows, ow * step, inside, span, ow, lanes, acc);
      }
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < kTaps; t++) {
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; v++) Vec::Store(dfilter + tap[t] * channels + c0 + v * Vec::kLanes, lanes[v], acc[t][v]);
  }
}

template <int kTaps>
TESSERA_DEPTHWISE_TARGET void BackpropFilter(const ConvGeometry& g, const float* in, int64_t stride, const float* dy,
                                             int64_t channels, const int64_t* tap, int64_t c0, int64_t count,
                                             float* dfilter) {
  if (count == kBlock) {
    BackpropFilterBody<kTaps, true>(g, in, stride, dy, channels, tap, c0, count, dfilter);
  } else {
    BackpropFilterBody<kTaps, false>(g, in, stride, dy, channels, tap, c0, count, dfilter);
  }
}

template <int... T>
constexpr DepthwiseKernels MakeDepthwise(const char* name, std::integer_sequence<int, T...>) {
  return DepthwiseKernels{name, kBlock, &ForwardRow, &BackpropInputRow, sizeof...(T), {&BackpropFilter<T + 1>...}};
}
