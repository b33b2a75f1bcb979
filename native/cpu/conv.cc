#include "cpu/conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/conv_kernels.h"
#include "cpu/gemm_kernels.h"
#include "cpu/isa.h"

namespace tessera {
namespace conv {
namespace {

// im2col / col2im scratch per calling thread, reused across calls. Its size caps the row
// block: big enough that one block usually covers a whole layer (Sgemm then sees one large
// problem and can thread it), small enough to stay resident in L2/L3-sized working sets.
constexpr int64_t kScratchFloats = int64_t{4} << 20;  // 16 MiB

// Elements of work per thread below which splitting costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 14;

float* Scratch(int64_t floats) {
  thread_local std::unique_ptr<float[]> buffer;
  thread_local int64_t capacity = 0;
  if (floats > capacity) {
    buffer.reset();  // release first: old and new never coexist
    buffer.reset(new float[floats]);
    capacity = floats;
  }
  return buffer.get();
}

int64_t GrainFor(int64_t work_per_item) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work_per_item)); }


// Rows of output images (units of out_w pixels) per im2col block of `floats_per_pixel`.
int64_t BlockImageRows(const ConvGeometry& g, int64_t floats_per_pixel) {
  int64_t per_row = std::max<int64_t>(1, g.out_w * floats_per_pixel);
  return std::max<int64_t>(1, kScratchFloats / per_row);
}

// ---- Epilogue for the paths Sgemm does not finish (depthwise, tap-wise) -------------------

template <typename F>
void MapRows(int64_t row_begin, int64_t row_end, int64_t n, float* c, const Epilogue& e, F f) {
  for (int64_t i = row_begin; i < row_end; i++) {
    float* r = c + i * n;
    const float* alpha = e.prelu_alpha ? (e.prelu_per_element ? e.prelu_alpha + i * n : e.prelu_alpha) : nullptr;
    for (int64_t j = 0; j < n; j++) r[j] = f(r[j], alpha ? alpha[j] : 0.0f);
  }
}

}  // namespace

void FinishRows(int64_t row_begin, int64_t row_end, int64_t n, float* c, const Epilogue& e) {
  if (e.bias) {
    for (int64_t i = row_begin; i < row_end; i++) {
      float* r = c + i * n;
      const float* b = e.bias_per_element ? e.bias + i * n : e.bias;
      for (int64_t j = 0; j < n; j++) r[j] += b[j];
    }
  }
  const float leaky = e.leaky_alpha;
  switch (e.activation) {
    case Activation::kNone: break;
    case Activation::kRelu: MapRows(row_begin, row_end, n, c, e, [](float v, float) { return v < 0 ? 0.0f : v; }); break;
    case Activation::kRelu6:
      MapRows(row_begin, row_end, n, c, e, [](float v, float) { return v < 0 ? 0.0f : (v > 6 ? 6.0f : v); });
      break;
    case Activation::kLeakyRelu:
      MapRows(row_begin, row_end, n, c, e, [leaky](float v, float) { return v < 0 ? leaky * v : v; });
      break;
    case Activation::kPrelu: MapRows(row_begin, row_end, n, c, e, [](float v, float a) { return v < 0 ? a * v : v; }); break;
    default:
      MapRows(row_begin, row_end, n, c, e, [&e](float v, float a) { return ApplyActivation(e.activation, v, e.leaky_alpha, a); });
      break;
  }
}

namespace {

bool HasEpilogue(const Epilogue& e) { return e.bias != nullptr || e.activation != Activation::kNone; }

void FinishAll(int64_t rows, int64_t n, float* c, const Epilogue& e) {
  if (!HasEpilogue(e)) return;
  ParallelFor(rows, GrainFor(n), [&](int64_t begin, int64_t end) { FinishRows(begin, end, n, c, e); });
}

// The epilogue for rows starting at `first_row` of the full output (per-element operands move).
Epilogue OffsetEpilogue(const Epilogue& e, int64_t first_row, int64_t n) {
  Epilogue out = e;
  if (out.bias && out.bias_per_element) out.bias += first_row * n;
  if (out.prelu_alpha && out.prelu_per_element) out.prelu_alpha += first_row * n;
  return out;
}

}  // namespace

// ---- im2col / col2im -----------------------------------------------------------------------

// Row p of col (k = filter_h * filter_w * in_c floats, ordered like the filter) holds the
// inputs that output pixel first_pixel + p reads, zeros where it reads padding.
void Im2Col(const ConvGeometry& g, const float* x, int64_t first_pixel, int64_t pixels, float* col) {
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t tap_row = g.filter_w * g.in_c;
  ParallelFor(pixels, GrainFor(k), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; p++) {
      int64_t pixel = first_pixel + p;
      int64_t ow = pixel % g.out_w;
      int64_t oh = (pixel / g.out_w) % g.out_h;
      int64_t n = pixel / (g.out_w * g.out_h);
      int64_t ih0 = oh * g.stride_h - g.pad_top;
      int64_t iw0 = ow * g.stride_w - g.pad_left;
      bool row_inside = iw0 >= 0 && iw0 + (g.filter_w - 1) * g.dilation_w < g.in_w;
      float* dst = col + p * k;
      for (int64_t kh = 0; kh < g.filter_h; kh++, dst += tap_row) {
        int64_t ih = ih0 + kh * g.dilation_h;
        if (ih < 0 || ih >= g.in_h) {
          std::memset(dst, 0, sizeof(float) * tap_row);
          continue;
        }
        const float* src = x + ((n * g.in_h + ih) * g.in_w) * g.in_c;
        if (row_inside && g.dilation_w == 1) {
          std::memcpy(dst, src + iw0 * g.in_c, sizeof(float) * tap_row);
          continue;
        }
        for (int64_t kw = 0; kw < g.filter_w; kw++) {
          int64_t iw = iw0 + kw * g.dilation_w;
          if (iw < 0 || iw >= g.in_w) {
            std::memset(dst + kw * g.in_c, 0, sizeof(float) * g.in_c);
          } else {
            std::memcpy(dst + kw * g.in_c, src + iw * g.in_c, sizeof(float) * g.in_c);
          }
        }
      }
    }
  });
}

// dx += the columns of col (rows: output pixels of image rows [row_begin, row_end)) put back
// where Im2Col took them from; padding entries are dropped. Each thread owns whole rows of
// dx, so there is no write conflict.
void Col2Im(const ConvGeometry& g, const float* col, int64_t row_begin, int64_t row_end, float* dx) {
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t first_image = row_begin / g.out_h;
  const int64_t last_image = (row_end - 1) / g.out_h;
  const int64_t dx_rows = (last_image - first_image + 1) * g.in_h;
  ParallelFor(dx_rows, GrainFor(g.in_w * g.in_c), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      int64_t n = first_image + r / g.in_h;
      int64_t ih = r % g.in_h;
      float* dst_row = dx + (n * g.in_h + ih) * g.in_w * g.in_c;
      for (int64_t kh = 0; kh < g.filter_h; kh++) {
        int64_t t = ih + g.pad_top - kh * g.dilation_h;
        if (t < 0 || t % g.stride_h != 0) continue;
        int64_t oh = t / g.stride_h;
        int64_t image_row = n * g.out_h + oh;
        if (oh >= g.out_h || image_row < row_begin || image_row >= row_end) continue;
        const float* src_row = col + (image_row - row_begin) * g.out_w * k + kh * g.filter_w * g.in_c;
        for (int64_t kw = 0; kw < g.filter_w; kw++) {
          Span span = ValidOutputColumns(g, kw);
          for (int64_t ow = span.begin; ow < span.end; ow++) {
            int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
            const float* src = src_row + ow * k + kw * g.in_c;
            float* dst = dst_row + iw * g.in_c;
            for (int64_t c = 0; c < g.in_c; c++) dst[c] += src[c];
          }
        }
      }
    }
  });
}

namespace {

// ---- Tap-wise paths: no padding products at all ----------------------------------------------
// Used when a non-finite value would meet an im2col zero (0 * Inf = NaN where tfjs forms no
// product). One Sgemm per (image row, filter tap) over just the output columns whose input
// lies inside; strided input rows are read in place through the leading dimension.

void ForwardByTaps(const ConvGeometry& g, const float* x, const float* filter, float* y) {
  const int64_t image_rows = g.batch * g.out_h;
  ParallelFor(image_rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      int64_t n = row / g.out_h;
      int64_t oh = row % g.out_h;
      float* y_row = y + row * g.out_w * g.out_c;
      std::memset(y_row, 0, sizeof(float) * g.out_w * g.out_c);
      for (int64_t kh = 0; kh < g.filter_h; kh++) {
        int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
        if (ih < 0 || ih >= g.in_h) continue;
        for (int64_t kw = 0; kw < g.filter_w; kw++) {
          Span span = ValidOutputColumns(g, kw);
          if (span.begin == span.end) continue;
          int64_t iw = span.begin * g.stride_w - g.pad_left + kw * g.dilation_w;
          const float* a = x + ((n * g.in_h + ih) * g.in_w + iw) * g.in_c;
          const float* b = filter + (kh * g.filter_w + kw) * g.in_c * g.out_c;
          Sgemm(false, false, span.end - span.begin, g.out_c, g.in_c, a, g.stride_w * g.in_c, b, g.out_c,
                y_row + span.begin * g.out_c, g.out_c, true);
        }
      }
    }
  });
}

void BackpropFilterByTaps(const ConvGeometry& g, const float* x, const float* dy, float* dfilter) {
  const int64_t taps = g.filter_h * g.filter_w;
  ParallelFor(taps, 1, [&](int64_t begin, int64_t end) {
    for (int64_t tap = begin; tap < end; tap++) {
      int64_t kh = tap / g.filter_w;
      int64_t kw = tap % g.filter_w;
      float* dw = dfilter + tap * g.in_c * g.out_c;
      std::memset(dw, 0, sizeof(float) * g.in_c * g.out_c);
      Span span = ValidOutputColumns(g, kw);
      if (span.begin == span.end) continue;
      for (int64_t n = 0; n < g.batch; n++) {
        for (int64_t oh = 0; oh < g.out_h; oh++) {
          int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
          if (ih < 0 || ih >= g.in_h) continue;
          int64_t iw = span.begin * g.stride_w - g.pad_left + kw * g.dilation_w;
          const float* a = x + ((n * g.in_h + ih) * g.in_w + iw) * g.in_c;
          const float* b = dy + ((n * g.out_h + oh) * g.out_w + span.begin) * g.out_c;
          Sgemm(true, false, g.in_c, g.out_c, span.end - span.begin, a, g.stride_w * g.in_c, b, g.out_c, dw, g.out_c,
                true);
        }
      }
    }
  });
}

}  // namespace

// ---- The im2col passes -----------------------------------------------------------------------

int64_t Im2ColBlockRows(const ConvGeometry& g) { return BlockImageRows(g, g.filter_h * g.filter_w * g.in_c); }

void Im2ColForward(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue,
                   int64_t block_rows, GemmFn gemm) {
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t image_rows = g.batch * g.out_h;
  float* col = Scratch(std::min(block_rows, image_rows) * g.out_w * k);
  for (int64_t r0 = 0; r0 < image_rows; r0 += block_rows) {
    int64_t r1 = std::min(image_rows, r0 + block_rows);
    int64_t first = r0 * g.out_w;
    int64_t m = (r1 - r0) * g.out_w;
    Im2Col(g, x, first, m, col);
    gemm(false, false, m, g.out_c, k, col, k, filter, g.out_c, y + first * g.out_c, g.out_c, false,
         OffsetEpilogue(epilogue, first, g.out_c));
  }
}

void Col2ImBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx, int64_t block_rows,
                         GemmFn gemm) {
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t dx_size = g.batch * g.in_h * g.in_w * g.in_c;
  ParallelFor(dx_size, kParallelGrain, [&](int64_t begin, int64_t end) { std::fill(dx + begin, dx + end, 0.0f); });
  // Products of dy with every tap, padding taps included: their columns are simply not put
  // back, so no product tfjs skips ever reaches dx.
  const int64_t image_rows = g.batch * g.out_h;
  float* col = Scratch(std::min(block_rows, image_rows) * g.out_w * k);
  for (int64_t r0 = 0; r0 < image_rows; r0 += block_rows) {
    int64_t r1 = std::min(image_rows, r0 + block_rows);
    int64_t first = r0 * g.out_w;
    int64_t m = (r1 - r0) * g.out_w;
    gemm(false, true, m, k, g.out_c, dy + first * g.out_c, g.out_c, filter, g.out_c, col, k, false, Epilogue());
    Col2Im(g, col, r0, r1, dx);
  }
}

void Im2ColBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dfilter, int64_t block_rows,
                          GemmFn gemm) {
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t image_rows = g.batch * g.out_h;
  float* col = Scratch(std::min(block_rows, image_rows) * g.out_w * k);
  for (int64_t r0 = 0; r0 < image_rows; r0 += block_rows) {
    int64_t r1 = std::min(image_rows, r0 + block_rows);
    int64_t first = r0 * g.out_w;
    int64_t m = (r1 - r0) * g.out_w;
    Im2Col(g, x, first, m, col);
    gemm(true, false, k, g.out_c, m, col, k, dy + first * g.out_c, g.out_c, dfilter, g.out_c, r0 > 0, Epilogue());
  }
}

bool AllFinite(const float* p, int64_t n) {
  // x * 0 is 0 for finite x and NaN otherwise; independent lanes let the compiler vectorize
  // the pass (one sum would be a serial chain: float addition may not be reassociated).
  constexpr int64_t kLanes = 16;
  float probe[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t j = 0; j < kLanes; j++) probe[j] += p[i + j] * 0.0f;
  }
  for (; i < n; i++) probe[0] += p[i] * 0.0f;
  float total = 0.0f;
  for (float v : probe) total += v;
  return total == 0.0f;
}

bool IsPointwise(const ConvGeometry& g) {
  return g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
}

}  // namespace conv

// ---- Regular convolution ----------------------------------------------------------------------

void Conv2D(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue) {
  using namespace conv;
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  if (pixels == 0 || g.out_c == 0) return;
  if (k == 0) {
    std::fill(y, y + pixels * g.out_c, 0.0f);
    FinishAll(pixels, g.out_c, y, epilogue);
    return;
  }
  if (IsPointwise(g)) {
    Sgemm(false, false, pixels, g.out_c, g.in_c, x, g.in_c, filter, g.out_c, y, g.out_c, false, epilogue);
    return;
  }
  if (ReadsPadding(g) && !AllFinite(filter, k * g.out_c)) {
    ForwardByTaps(g, x, filter, y);
    FinishAll(pixels, g.out_c, y, epilogue);
    return;
  }
  const TileSet* tiles = ActiveTiles();
  if (tiles != nullptr && SmallKPays(g)) {
    SmallKForward(gemm::KernelsFor(tiles->isa), g, x, filter, y, epilogue);
    return;
  }
  if (tiles != nullptr && g.out_c >= kDirectMinColumns) {
    DirectForward(*tiles, DirectOptions(), g, x, filter, y, epilogue);
    return;
  }
  Im2ColForward(g, x, filter, y, epilogue, Im2ColBlockRows(g), &Sgemm);
}

void Conv2DBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx) {
  using namespace conv;
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t dx_size = g.batch * g.in_h * g.in_w * g.in_c;
  if (dx_size == 0) return;
  if (IsPointwise(g) && g.out_c > 0) {
    Sgemm(false, true, pixels, g.in_c, g.out_c, dy, g.out_c, filter, g.out_c, dx, g.in_c);
    return;
  }
  if (pixels == 0 || k == 0 || g.out_c == 0) {
    ParallelFor(dx_size, kParallelGrain, [&](int64_t begin, int64_t end) { std::fill(dx + begin, dx + end, 0.0f); });
    return;
  }
  // The direct passes want input channels enough to fill the vectors of their tiles, and
  // pixels enough to repay laying the filter out transposed (Sgemm packs it on the fly).
  const TileSet* tiles = ActiveTiles();
  if (tiles != nullptr && g.in_c >= kDirectMinColumns && g.batch * g.in_h * g.in_w >= kDirectInputMinPixels) {
    DirectBackpropInput(*tiles, DirectOptions(), g, dy, filter, dx);
    return;
  }
  Col2ImBackpropInput(g, dy, filter, dx, Im2ColBlockRows(g), &Sgemm);
}

void Conv2DBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dfilter) {
  using namespace conv;
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  const int64_t k = g.filter_h * g.filter_w * g.in_c;
  const int64_t size = k * g.out_c;
  if (size == 0) return;
  if (pixels == 0) {
    std::fill(dfilter, dfilter + size, 0.0f);
    return;
  }
  const TileSet* tiles = ActiveTiles();
  if (tiles != nullptr &&
      (!DirectBackpropFilterReadsZeros(*tiles, DirectOptions(), g) || AllFinite(dy, pixels * g.out_c))) {
    DirectBackpropFilter(*tiles, DirectOptions(), g, x, dy, dfilter);
    return;
  }
  if (IsPointwise(g)) {
    Sgemm(true, false, g.in_c, g.out_c, pixels, x, g.in_c, dy, g.out_c, dfilter, g.out_c);
    return;
  }
  if (ReadsPadding(g) && !AllFinite(dy, pixels * g.out_c)) {
    BackpropFilterByTaps(g, x, dy, dfilter);
    return;
  }
  Im2ColBackpropFilter(g, x, dy, dfilter, Im2ColBlockRows(g), &Sgemm);
}

}  // namespace tessera
