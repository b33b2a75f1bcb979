// Depthwise convolutions: the drivers around the per-ISA kernels of conv_depthwise_body.h,
// and that body's portable instantiation (one double per vector) for CPUs without AVX2.
//
// Forward and backprop input thread over output (input) image rows; the backprop filter over
// (channel block, tap group) pairs, since splitting its sums would change tfjs's order. A
// channel multiplier above 1 is taken by widening x to one value per output channel (the
// forward and backprop filter) and by making dy's multiplier values planes (backprop input),
// so the kernels always run across contiguous channels.
#include <algorithm>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/conv.h"
#include "cpu/conv_kernels.h"

namespace tessera {
namespace conv {
namespace {

struct Vec {
  using D = double;
  static constexpr int kLanes = 1;
  static D Zero() { return 0.0; }
  static D Load(const float* p, int64_t n) { return n > 0 ? static_cast<double>(*p) : 0.0; }
  static D LoadD(const double* p, int64_t n) { return n > 0 ? *p : 0.0; }
  static void Store(float* p, int64_t n, D v) {
    if (n > 0) *p = static_cast<float>(v);
  }
  // The product of two widened floats is exact, so this is one rounding, as a fused one.
  static D Fma(D a, D b, D c) { return a * b + c; }
  // The float passes through memory: GCC 12 drops the round trip through float once it
  // vectorizes this loop across channels (two lanes of doubles), which would keep the sum in
  // double and part from tfjs.
  static D RoundToFloat(D v) {
    float f = static_cast<float>(v);
    __asm__("" : "+m"(f));
    return f;
  }
};

#define TESSERA_DEPTHWISE_TARGET
#include "cpu/conv_depthwise_body.h"
#undef TESSERA_DEPTHWISE_TARGET

// Elements per parallel chunk below which a second thread costs more than it saves.
constexpr int64_t kGrainElements = 1 << 14;

const DepthwiseKernels& Kernels() {
  static const DepthwiseKernels& kernels = []() -> const DepthwiseKernels& {
    if (ActiveIsa() == Isa::kAvx512 && Avx512Depthwise() != nullptr) return *Avx512Depthwise();
    if (ActiveIsa() != Isa::kGeneric && Avx2Depthwise() != nullptr) return *Avx2Depthwise();
    return GenericDepthwise();
  }();
  return kernels;
}

int64_t Grain(int64_t work_per_item) { return std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, work_per_item)); }

// x with each input channel's value repeated `mul` times: one value per output channel.
std::vector<float> Widen(const ConvGeometry& g, const float* x) {
  const int64_t pixels = g.batch * g.in_h * g.in_w;
  std::vector<float> wide(pixels * g.out_c);
  ParallelFor(pixels, Grain(g.out_c), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; p++) {
      const float* src = x + p * g.in_c;
      float* dst = wide.data() + p * g.out_c;
      for (int64_t c = 0; c < g.in_c; c++) std::fill(dst + c * g.channel_multiplier, dst + (c + 1) * g.channel_multiplier, src[c]);
    }
  });
  return wide;
}

// values [items][in_c][mul] as [items][mul][in_c].
template <typename T, typename U>
void ToPlanes(const ConvGeometry& g, const U* src, int64_t items, T* dst) {
  const int64_t mul = g.channel_multiplier;
  ParallelFor(items, Grain(g.out_c), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      for (int64_t c = 0; c < g.in_c; c++) {
        for (int64_t q = 0; q < mul; q++) dst[(i * mul + q) * g.in_c + c] = static_cast<T>(src[(i * g.in_c + c) * mul + q]);
      }
    }
  });
}

std::vector<double> FilterInDouble(const ConvGeometry& g, const float* filter) {
  return std::vector<double>(filter, filter + g.filter_h * g.filter_w * g.out_c);
}

}  // namespace

const DepthwiseKernels& GenericDepthwise() {
  static const DepthwiseKernels kernels = MakeDepthwise("generic", std::make_integer_sequence<int, 9>());
  return kernels;
}

}  // namespace conv

void DepthwiseConv2D(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue) {
  using namespace conv;
  const int64_t image_rows = g.batch * g.out_h;
  const int64_t row_size = g.out_w * g.out_c;
  if (image_rows == 0 || row_size == 0) return;
  const DepthwiseKernels& k = Kernels();
  const std::vector<double> w = FilterInDouble(g, filter);
  std::vector<float> wide;
  if (g.channel_multiplier != 1) wide = Widen(g, x);
  const float* in = g.channel_multiplier != 1 ? wide.data() : x;
  const bool finish = epilogue.bias != nullptr || epilogue.activation != Activation::kNone;
  ParallelFor(image_rows, Grain(row_size * g.filter_h * g.filter_w), [&](int64_t begin, int64_t end) {
    std::vector<DepthwiseTerm> terms(g.filter_h * g.filter_w);
    for (int64_t row = begin; row < end; row++) {
      const int64_t n = row / g.out_h, oh = row % g.out_h;
      k.forward_row(g, in + n * g.in_h * g.in_w * g.out_c, g.out_c, w.data(), g.out_c, oh, y + row * row_size,
                    terms.data());
      if (finish) FinishRows(row * g.out_w, (row + 1) * g.out_w, g.out_c, y, epilogue);
    }
  });
}

void DepthwiseConv2DBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx) {
  using namespace conv;
  const int64_t dx_rows = g.batch * g.in_h;
  const int64_t row_size = g.in_w * g.in_c;
  if (dx_rows == 0 || row_size == 0) return;
  const DepthwiseKernels& k = Kernels();
  const int64_t mul = g.channel_multiplier;
  const int64_t taps = g.filter_h * g.filter_w;
  std::vector<double> w(taps * g.out_c);
  std::vector<float> planes;
  if (mul == 1) {
    std::copy(filter, filter + taps * g.out_c, w.begin());
  } else {
    ToPlanes(g, filter, taps, w.data());
    planes.resize(g.batch * g.out_h * g.out_w * g.out_c);
    ToPlanes(g, dy, g.batch * g.out_h * g.out_w, planes.data());
  }
  const float* d = mul == 1 ? dy : planes.data();
  ParallelFor(dx_rows, Grain(g.out_w * g.out_c * g.filter_w), [&](int64_t begin, int64_t end) {
    std::vector<DepthwiseTerm> terms(taps * mul);
    for (int64_t r = begin; r < end; r++) {
      const int64_t n = r / g.in_h, ih = r % g.in_h;
      k.backprop_input_row(g, d + n * g.out_h * g.out_w * g.out_c, w.data(), g.in_c, mul, ih, dx + r * row_size,
                           terms.data());
    }
  });
}

void DepthwiseConv2DBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dfilter) {
  using namespace conv;
  const int64_t taps = g.filter_h * g.filter_w;
  if (taps == 0 || g.out_c == 0) return;
  const DepthwiseKernels& k = Kernels();
  std::vector<float> wide;
  if (g.channel_multiplier != 1) wide = Widen(g, x);
  const float* in = g.channel_multiplier != 1 ? wide.data() : x;
  // Tasks are (channel block, tap group) pairs: groups as large as the kernels take (each dy
  // vector then serves all their taps), split further when that leaves threads idle.
  const int64_t blocks = (g.out_c + k.block - 1) / k.block;
  int64_t groups = (taps + k.max_taps - 1) / k.max_taps;
  const int64_t wanted = 2 * NumThreads();
  if (blocks * groups < wanted) groups = std::min(taps, (wanted + blocks - 1) / blocks);
  const int64_t group = (taps + groups - 1) / groups;
  groups = (taps + group - 1) / group;
  std::vector<int64_t> tap_index(taps);
  for (int64_t t = 0; t < taps; t++) tap_index[t] = t;
  ParallelFor(blocks * groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; task++) {
      const int64_t c0 = (task / groups) * k.block;
      const int64_t t0 = (task % groups) * group;
      const int64_t count = std::min(group, taps - t0);
      k.backprop_filter[count - 1](g, in, g.out_c, dy, g.out_c, tap_index.data() + t0, c0,
                                   std::min<int64_t>(k.block, g.out_c - c0), dfilter);
    }
  });
}

}  // namespace tessera
