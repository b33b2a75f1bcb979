// The small-reduction forward: convolutions whose K = filter_h * filter_w * in_c is a few
// dozen at most (first layers: one or three input channels). The direct engine's tiles
// (conv_direct.cc) walk one segment per filter row there, filter_w * in_c steps each, and
// spend more on the segments' bookkeeping (a pointer per tile row and segment) than on the
// multiply-adds. Here each tile of mr output pixels has its im2col rows packed into a small
// buffer in the GEMM micro-panel layout, a[p * mr + i] for pixel i at reduction step p, and
// one GEMM microkernel call per column panel runs the whole reduction, the filter read in
// place as B (only a last, narrower panel is copied, zero-padded to nr: the microkernels load
// whole rows of nr floats). The tile epilogue follows while the tile is hot.
//
// The sums run in the filter's order (kh, kw, ic), one chain of FMAs from zero, as in the
// direct engine: the two agree bit for bit (a zero for padding adds +0 to a sum that is never
// -0, and a filter with Inf or NaN next to padding never gets here: conv.cc takes the tap-wise
// path for it).
//
// Packing is one copy per reduction step of `len` consecutive floats: the tile's pixels fall
// in runs along output rows, and the source is laid out so that the values one tap reads for a
// run are consecutive (the planes, below). Work goes to the threads in units of output rows of
// one image, each unit laying out the planes of the input rows it reads in a buffer of its
// thread, small enough to stay in L2 while its tiles read them.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/conv_kernels.h"
#include "cpu/gemm_kernels.h"

namespace tessera {
namespace conv {
namespace {

// Multiply-adds per parallel chunk below which a second thread costs more than it saves (as in
// conv_direct.cc).
constexpr int64_t kMinChunkMacs = int64_t{1} << 17;
// Floats of planes one unit lays out at most (256 KiB), unless a single unit row needs more.
constexpr int64_t kUnitPlaneFloats = int64_t{64} << 10;

// dst[0, n) = src[0, n), 1 <= n <= 16: a copy of constant size per case, which the compiler
// inlines as a few vector moves (a call to memcpy would cost as much as the copy).
inline void CopyShort(float* __restrict dst, const float* __restrict src, int64_t n) {
  switch (n) {
#define TESSERA_SMALLK_CASE(N) \
  case N: std::memcpy(dst, src, sizeof(float) * N); return;
    TESSERA_SMALLK_CASE(1) TESSERA_SMALLK_CASE(2) TESSERA_SMALLK_CASE(3) TESSERA_SMALLK_CASE(4)
    TESSERA_SMALLK_CASE(5) TESSERA_SMALLK_CASE(6) TESSERA_SMALLK_CASE(7) TESSERA_SMALLK_CASE(8)
    TESSERA_SMALLK_CASE(9) TESSERA_SMALLK_CASE(10) TESSERA_SMALLK_CASE(11) TESSERA_SMALLK_CASE(12)
    TESSERA_SMALLK_CASE(13) TESSERA_SMALLK_CASE(14) TESSERA_SMALLK_CASE(15) TESSERA_SMALLK_CASE(16)
#undef TESSERA_SMALLK_CASE
    default: std::memcpy(dst, src, sizeof(float) * n);
  }
}

// The planes: per row of the padded input (the padding the windows read, as zeros), per input
// channel ic and phase ph of the stride, the row's channel ic at columns ph, ph + stride_w,
// ph + 2 * stride_w, ... Tap (kh, kw, ic) of output column ow reads padded column
// ow * stride_w + e, e = kw * dilation_w + left - pad_left: entry ow + e / stride_w of the
// plane of phase e % stride_w. So the values a tap reads for a run of output pixels along a
// row are consecutive. With one channel, stride 1 and no padding read, the planes are x itself.
struct Layout {
  bool in_place;              // x is its own planes
  int64_t plane, row;         // floats per plane, per padded row (in_c * stride_w planes)
  int64_t left;               // padded columns left of the image
  std::vector<int64_t> step;  // per reduction step (kh, kw, ic): its offset from the window's corner
  std::vector<char> phases;   // per phase of the stride: whether a tap reads it (1x1 filters at stride 2 do not)
};

Layout MakeLayout(const ConvGeometry& g) {
  Layout l;
  l.left = std::max<int64_t>(0, g.pad_left);
  const int64_t last_w = (g.out_w - 1) * g.stride_w - g.pad_left + (g.filter_w - 1) * g.dilation_w;
  const int64_t cols = l.left + std::max(g.in_w, last_w + 1);
  const int64_t sw = g.stride_w;
  l.plane = (cols + sw - 1) / sw;
  l.row = g.in_c * sw * l.plane;
  l.in_place = g.in_c == 1 && sw == 1 && !ReadsPadding(g);
  l.phases.assign(sw, 0);
  for (int64_t kh = 0; kh < g.filter_h; kh++) {
    for (int64_t kw = 0; kw < g.filter_w; kw++) {
      const int64_t e = kw * g.dilation_w + l.left - g.pad_left;
      l.phases[e % sw] = 1;
      for (int64_t ic = 0; ic < g.in_c; ic++) {
        l.step.push_back(kh * g.dilation_h * l.row + (ic * sw + e % sw) * l.plane + e / sw);
      }
    }
  }
  return l;
}

// Plane entries [0, n) of every channel (planes plane_step apart) from input pixels stride
// pixels apart. kChannels and kStride: the channel count and stride as constants (the compiler
// then vectorizes the strided loads), or 0 for `channels` and `stride`.
template <int kChannels, int kStride>
inline void Split(float* __restrict plane, int64_t plane_step, const float* __restrict src, int64_t n,
                  int64_t channels, int64_t stride) {
  const int64_t c = kChannels > 0 ? kChannels : channels;
  const int64_t src_step = c * (kStride > 0 ? kStride : stride);
  for (int64_t j = 0; j < n; j++) {
    for (int64_t ic = 0; ic < c; ic++) plane[ic * plane_step + j] = src[j * src_step + ic];
  }
}

template <int kStride>
inline void SplitChannels(float* plane, int64_t plane_step, const float* src, int64_t n, int64_t channels,
                          int64_t stride) {
  switch (channels) {
    case 1: Split<1, kStride>(plane, plane_step, src, n, 1, stride); break;
    case 2: Split<2, kStride>(plane, plane_step, src, n, 2, stride); break;
    case 3: Split<3, kStride>(plane, plane_step, src, n, 3, stride); break;
    case 4: Split<4, kStride>(plane, plane_step, src, n, 4, stride); break;
    default: Split<0, kStride>(plane, plane_step, src, n, channels, stride);
  }
}

// The planes of row ih of image n, padded (all zeros where ih is outside the image); phases
// no tap reads are left as they are.
void FillRow(const ConvGeometry& g, const Layout& l, const float* x, int64_t n, int64_t ih, float* dst) {
  if (ih < 0 || ih >= g.in_h) {
    std::fill(dst, dst + l.row, 0.0f);
    return;
  }
  const int64_t sw = g.stride_w;
  const float* src = x + (n * g.in_h + ih) * g.in_w * g.in_c;
  const int64_t plane_step = sw * l.plane;  // from channel to channel
  for (int64_t ph = 0; ph < sw; ph++) {
    if (!l.phases[ph]) continue;
    // Entries [lo, hi) of the phase's planes lie inside the image.
    const int64_t lo = std::clamp<int64_t>(CeilDiv(l.left - ph, sw), 0, l.plane);
    const int64_t hi = std::clamp<int64_t>(CeilDiv(l.left + g.in_w - ph, sw), lo, l.plane);
    float* d = dst + ph * l.plane;
    for (int64_t ic = 0; ic < g.in_c; ic++) {
      std::fill(d + ic * plane_step, d + ic * plane_step + lo, 0.0f);
      std::fill(d + ic * plane_step + hi, d + ic * plane_step + l.plane, 0.0f);
    }
    const float* s = src + (lo * sw + ph - l.left) * g.in_c;
    switch (sw) {
      case 1: SplitChannels<1>(d + lo, plane_step, s, hi - lo, g.in_c, 1); break;
      case 2: SplitChannels<2>(d + lo, plane_step, s, hi - lo, g.in_c, 2); break;
      default: SplitChannels<0>(d + lo, plane_step, s, hi - lo, g.in_c, sw);
    }
  }
}

// The im2col rows of `len` pixels along an output row into dst[p * kMr + i], i < len: one copy
// per reduction step from the run's first window corner in the planes.
template <int kMr>
inline void PackRun(const Layout& l, const float* corner, int64_t len, float* dst) {
  const int64_t* __restrict step = l.step.data();
  const int64_t k = static_cast<int64_t>(l.step.size());
  if (len == kMr) {
    for (int64_t p = 0; p < k; p++) std::memcpy(dst + p * kMr, corner + step[p], sizeof(float) * kMr);
  } else {
    for (int64_t p = 0; p < k; p++) CopyShort(dst + p * kMr, corner + step[p], len);
  }
}

// The rows of x (image rows counted across the batch) [begin, end) that unit u reads.
struct Rows {
  int64_t begin, end;
};
Rows UnitInput(const ConvGeometry& g, int64_t units_per_image, int64_t unit_rows, int64_t u) {
  const int64_t n = u / units_per_image;
  const int64_t oh0 = (u % units_per_image) * unit_rows, oh1 = std::min(g.out_h, oh0 + unit_rows);
  const int64_t ih0 = oh0 * g.stride_h - g.pad_top;
  const int64_t ih1 = (oh1 - 1) * g.stride_h - g.pad_top + (g.filter_h - 1) * g.dilation_h + 1;
  const int64_t begin = std::clamp<int64_t>(ih0, 0, g.in_h), end = std::clamp<int64_t>(ih1, begin, g.in_h);
  return {n * g.in_h + begin, n * g.in_h + end};
}

template <int kMr>
void Forward(const gemm::KernelSet& ks, const ConvGeometry& g, const float* x, const float* filter, float* y,
             const Epilogue& epilogue) {
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t nr = ks.nr;
  const bool finish = epilogue.bias != nullptr || epilogue.activation != Activation::kNone;
  const Layout layout = MakeLayout(g);
  // Units of `unit_rows` output rows of one image: their planes within kUnitPlaneFloats, and
  // enough of them to spread over the threads.
  const int64_t rows_per_unit_row = g.stride_h;
  const int64_t window_rows = (g.filter_h - 1) * g.dilation_h + 1;
  int64_t unit_rows = g.out_h;
  if (!layout.in_place) {
    const int64_t fit = (kUnitPlaneFloats / layout.row - window_rows) / rows_per_unit_row + 1;
    unit_rows = std::clamp<int64_t>(fit, 1, unit_rows);
  }
  const int64_t spread = (g.batch * g.out_h + 4 * NumThreads() - 1) / (4 * NumThreads());
  unit_rows = std::max<int64_t>(1, std::min(unit_rows, spread));
  const int64_t units_per_image = (g.out_h + unit_rows - 1) / unit_rows;
  const int64_t units = g.batch * units_per_image;
  // The last panel, narrower than nr: a zero-padded copy, since the microkernels read B rows
  // nr wide (in place they would run past the filter's end).
  const int64_t full_cols = g.out_c / nr * nr;
  std::vector<float> tail;
  if (full_cols < g.out_c) {
    tail.assign(k * nr, 0.0f);
    for (int64_t p = 0; p < k; p++) {
      std::copy(filter + p * g.out_c + full_cols, filter + (p + 1) * g.out_c, tail.data() + p * nr);
    }
  }
  const int64_t unit_macs = unit_rows * g.out_w * k * g.out_c;
  ParallelFor(units, std::max<int64_t>(1, kMinChunkMacs / std::max<int64_t>(1, unit_macs)), [&](int64_t u0, int64_t u1) {
    alignas(64) float a[kSmallKMax * kMr];
    thread_local std::unique_ptr<float[]> plane_buffer;
    thread_local int64_t plane_capacity = 0;
    for (int64_t u = u0; u < u1; u++) {
      const int64_t n = u / units_per_image;
      const int64_t oh0 = (u % units_per_image) * unit_rows, oh1 = std::min(g.out_h, oh0 + unit_rows);
      // The padded input row of output row oh0's windows, and the unit's planes from it on.
      const int64_t ih0 = oh0 * g.stride_h - g.pad_top;
      const float* base;
      if (layout.in_place) {
        base = x + (n * g.in_h + ih0) * g.in_w;
      } else {
        const int64_t rows = (oh1 - oh0 - 1) * g.stride_h + window_rows;
        if (rows * layout.row > plane_capacity) {
          plane_buffer.reset();
          plane_buffer.reset(new float[rows * layout.row]);
          plane_capacity = rows * layout.row;
        }
        for (int64_t r = 0; r < rows; r++) {
          // Rows between the windows (a stride over a shorter window) are never read.
          bool read = g.stride_h <= window_rows;
          for (int64_t kh = 0; kh < g.filter_h && !read; kh++) {
            const int64_t t = r - kh * g.dilation_h;
            read = t >= 0 && t % g.stride_h == 0;
          }
          if (read) FillRow(g, layout, x, n, ih0 + r, plane_buffer.get() + r * layout.row);
        }
        base = plane_buffer.get();
      }
      const int64_t first = (n * g.out_h + oh0) * g.out_w, pixels = (oh1 - oh0) * g.out_w;
      // The input the next unit lays out, fetched while this one's tiles run (the planes are
      // laid out in a pass of their own, which would wait for memory on a large input).
      const char* fetch = nullptr;
      int64_t fetch_lines = 0, fetch_per_tile = 0;
      if (!layout.in_place && u + 1 < units) {
        const Rows next = UnitInput(g, units_per_image, unit_rows, u + 1);
        const int64_t floats = (next.end - next.begin) * g.in_w * g.in_c;
        fetch = reinterpret_cast<const char*>(x + next.begin * g.in_w * g.in_c);
        fetch_lines = (floats * int64_t{sizeof(float)} + 63) / 64;
        fetch_per_tile = (fetch_lines + (pixels + kMr - 1) / kMr - 1) / ((pixels + kMr - 1) / kMr);
      }
      int64_t oh = oh0, ow = 0;
      for (int64_t p0 = 0; p0 < pixels; p0 += kMr) {
        const int64_t count = std::min<int64_t>(kMr, pixels - p0);
        for (int64_t f = 0; f < fetch_per_tile && fetch_lines > 0; f++, fetch_lines--, fetch += 64) {
          __builtin_prefetch(fetch, 0, 2);
        }
        // Runs along output rows; (oh, ow) move on to the next tile's first pixel.
        for (int64_t i = 0; i < count;) {
          const int64_t len = std::min(count - i, g.out_w - ow);
          PackRun<kMr>(layout, base + (oh - oh0) * g.stride_h * layout.row + ow, len, a + i);
          i += len;
          ow += len;
          if (ow == g.out_w) {
            ow = 0;
            oh++;
          }
        }
        const gemm::MicroKernel micro = ks.kernels[count - 1];
        float* c = y + (first + p0) * g.out_c;
        for (int64_t oc0 = 0; oc0 < g.out_c; oc0 += nr) {
          const int64_t cols = std::min(nr, g.out_c - oc0);
          if (oc0 < full_cols) {
            micro(k, a, filter + oc0, g.out_c, c + oc0, g.out_c, cols, false);
          } else {
            micro(k, a, tail.data(), nr, c + oc0, g.out_c, cols, false);
          }
          if (finish) ks.epilogue(epilogue, g.out_c, c + oc0, g.out_c, first + p0, oc0, count, cols);
        }
      }
    }
  });
}

}  // namespace

bool SmallKFits(const ConvGeometry& g) {
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  return k >= 1 && k <= kSmallKMax;
}

bool SmallKPays(const ConvGeometry& g) {
  return SmallKFits(g) && g.in_c <= kSmallKMaxChannels && g.filter_w * g.in_c <= kSmallKMaxRow && g.stride_w <= 2 &&
         g.stride_h <= 2;
}

void SmallKForward(const gemm::KernelSet& ks, const ConvGeometry& g, const float* x, const float* filter, float* y,
                   const Epilogue& epilogue) {
  if (g.batch * g.out_h * g.out_w == 0 || g.out_c == 0) return;
  if (!SmallKFits(g)) throw Error("conv: the small-K forward takes 1 <= K <= " + std::to_string(kSmallKMax));
  switch (ks.mr) {
    case 6: Forward<6>(ks, g, x, filter, y, epilogue); break;
    case 8: Forward<8>(ks, g, x, filter, y, epilogue); break;
    case 12: Forward<12>(ks, g, x, filter, y, epilogue); break;
    case 14: Forward<14>(ks, g, x, filter, y, epilogue); break;
    default: throw Error(std::string("conv: no small-K forward for the ") + ks.name + " tiles");
  }
}

}  // namespace conv
}  // namespace tessera
