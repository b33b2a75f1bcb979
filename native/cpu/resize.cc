// tfjs rounds every product before adding it; keep the compiler from fusing the two where
// FMA is part of the target (aarch64, or x86 builds with -march).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "cpu/resize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"
#include "cpu/js_numeric.h"
#include "cpu/pool_isa.h"

namespace tessera {
namespace {

using pool_isa::GrainFor;
using pool_isa::ParallelRows;

// Math.round: the nearest integer, halves toward +Infinity (floor(v + 0.5) would round
// 0.49999999999999994 up).
inline double JsRound(double v) {
  const double f = std::floor(v);
  return v - f >= 0.5 ? f + 1 : f;
}

inline int64_t ClampIndex(double v, int64_t size) {
  if (!(v > 0)) return 0;
  return v >= static_cast<double>(size - 1) ? size - 1 : static_cast<int64_t>(v);
}

// tfjs's scale between an input and an output axis: with alignCorners (and more than one
// output pixel) the corner pixels map onto each other.
inline double AxisRatio(int64_t in_size, int64_t out_size, bool align_corners) {
  const bool aligned = align_corners && out_size > 1;
  return static_cast<double>(aligned ? in_size - 1 : in_size) / static_cast<double>(aligned ? out_size - 1 : out_size);
}

// The two source pixels output index i interpolates between, and the weight of the second.
struct LerpSource {
  int64_t low, high;
  double frac;
};

LerpSource BilinearSource(int64_t i, double ratio, bool half_pixel_centers, int64_t in_size) {
  const double source = half_pixel_centers ? ratio * (static_cast<double>(i) + 0.5) - 0.5 : ratio * static_cast<double>(i);
  const double low = std::max(0.0, std::floor(source));
  const double high = std::min(static_cast<double>(in_size - 1), std::ceil(source));
  // The clamps change nothing for tfjs's reachable values; they keep reads in bounds.
  return LerpSource{ClampIndex(low, in_size), ClampIndex(high, in_size), source - low};
}

int64_t NearestSource(int64_t i, double ratio, bool align_corners, bool half_pixel_centers, int64_t in_size) {
  const double source = half_pixel_centers ? ratio * (static_cast<double>(i) + 0.5) : ratio * static_cast<double>(i);
  double nearest = std::min(static_cast<double>(in_size - 1), align_corners ? JsRound(source) : std::floor(source));
  if (half_pixel_centers) nearest = std::max(0.0, nearest);
  return ClampIndex(nearest, in_size);
}

template <typename T>
struct BilinearBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const T* const& images, float* const& out,
                                      const ResizeGeometry& g, const LerpSource* const& cols, const double& row_ratio) {
    const int64_t C = g.channels;
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.out_height, r = row % g.out_height;
      const LerpSource src_row = BilinearSource(r, row_ratio, g.half_pixel_centers, g.in_height);
      const double row_frac = src_row.frac;
      const T* top = images + (b * g.in_height + src_row.low) * g.in_width * C;
      const T* bottom = images + (b * g.in_height + src_row.high) * g.in_width * C;
      for (int64_t c = 0; c < g.out_width; c++) {
        const LerpSource& src_col = cols[c];
        const double col_frac = src_col.frac;
        const T* __restrict top_left = top + src_col.low * C;
        const T* __restrict top_right = top + src_col.high * C;
        const T* __restrict bottom_left = bottom + src_col.low * C;
        const T* __restrict bottom_right = bottom + src_col.high * C;
        float* __restrict o = out + (row * g.out_width + c) * C;
        for (int64_t d = 0; d < C; d++) {
          const double tl = top_left[d], tr = top_right[d], bl = bottom_left[d], br = bottom_right[d];
          const double upper = tl + (tr - tl) * col_frac;
          const double lower = bl + (br - bl) * col_frac;
          o[d] = static_cast<float>(upper + (lower - upper) * row_frac);
        }
      }
    }
  }
};

// The Float32Array tfjs gathers into rounds an int32 to float; storing that into an
// Int32Array then wraps 2^31 (the only value rounding can push out of range).
TESSERA_POOL_INLINE int32_t ThroughFloat32(int32_t v) {
  const float f = static_cast<float>(v);
  return f >= 2147483648.0f ? std::numeric_limits<int32_t>::min() : static_cast<int32_t>(f);
}
TESSERA_POOL_INLINE float ThroughFloat32(float v) { return v; }

template <typename T>
struct NearestBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const T* const& images, T* const& out,
                                      const ResizeGeometry& g, const int64_t* const& cols, const double& row_ratio) {
    const int64_t C = g.channels;
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.out_height, r = row % g.out_height;
      const int64_t src_row = NearestSource(r, row_ratio, g.align_corners, g.half_pixel_centers, g.in_height);
      const T* source = images + (b * g.in_height + src_row) * g.in_width * C;
      for (int64_t c = 0; c < g.out_width; c++) {
        const T* __restrict p = source + cols[c] * C;
        T* __restrict o = out + (row * g.out_width + c) * C;
        for (int64_t d = 0; d < C; d++) o[d] = ThroughFloat32(p[d]);
      }
    }
  }
};

// tfjs's bilinear gradient is a scatter over dy in (batch, row, col) order, rounding dx to
// float32 after every add. Each task owns a band of dx rows [first, last) of one image and
// replays the whole scatter, applying only the adds that land in its band, so every dx
// element sees the same adds in the same order as in tfjs.
struct BilinearGradTap {
  int64_t low, high;
  double frac;
};

struct BilinearGradBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const float* const& dy, float* const& dx,
                                      const ResizeGeometry& g, const BilinearGradTap* const& rows,
                                      const BilinearGradTap* const& cols) {
    const int64_t C = g.channels;
    const int64_t x_row_size = g.in_width * C;
    for (int64_t band = begin; band < end;) {
      const int64_t b = band / g.in_height;
      const int64_t first = band % g.in_height;
      const int64_t last = std::min(g.in_height, first + (end - band));
      band += last - first;
      float* image = dx + b * g.in_height * x_row_size;
      std::fill(image + first * x_row_size, image + last * x_row_size, 0.0f);
      for (int64_t r = 0; r < g.out_height; r++) {
        const BilinearGradTap& tr = rows[r];
        const bool top_in = tr.low >= first && tr.low < last;
        const bool bottom_in = tr.high >= first && tr.high < last;
        if (!top_in && !bottom_in) continue;
        const double r_lerp = tr.frac, r_inverse = 1.0 - tr.frac;
        const float* dy_row = dy + (b * g.out_height + r) * g.out_width * C;
        for (int64_t c = 0; c < g.out_width; c++) {
          const BilinearGradTap& tc = cols[c];
          const double c_lerp = tc.frac, c_inverse = 1.0 - tc.frac;
          const float* __restrict d = dy_row + c * C;
          if (top_in) {
            Add(image + tr.low * x_row_size + tc.low * C, d, r_inverse * c_inverse, C);
            Add(image + tr.low * x_row_size + tc.high * C, d, r_inverse * c_lerp, C);
          }
          if (bottom_in) {
            Add(image + tr.high * x_row_size + tc.low * C, d, r_lerp * c_inverse, C);
            Add(image + tr.high * x_row_size + tc.high * C, d, r_lerp * c_lerp, C);
          }
        }
      }
    }
  }

  static TESSERA_POOL_INLINE void Add(float* __restrict target, const float* __restrict d, double weight, int64_t C) {
    for (int64_t k = 0; k < C; k++) target[k] = static_cast<float>(static_cast<double>(target[k]) + static_cast<double>(d[k]) * weight);
  }
};

std::vector<BilinearGradTap> BilinearGradTaps(int64_t x_size, int64_t y_size, double scale) {
  std::vector<BilinearGradTap> taps(static_cast<size_t>(y_size));
  for (int64_t i = 0; i < y_size; i++) {
    const double source = static_cast<double>(i) * scale;
    const double low = std::floor(source);
    const double high = std::min(std::ceil(source), static_cast<double>(x_size - 1));
    taps[i] = BilinearGradTap{ClampIndex(low, x_size), ClampIndex(high, x_size), source - low};
  }
  return taps;
}

// For each x index, the dy indices (ascending) tfjs's nearest-neighbor gradient adds up:
// those inside its search window whose nearest source is that x index. Where the window is
// unbounded (scale 0: alignCorners onto a single pixel, which never ends in tfjs) every dy
// index is searched.
struct Contributors {
  std::vector<int64_t> start;  // x_size + 1 offsets into index
  std::vector<int64_t> index;
};

Contributors NearestGradContributors(int64_t x_size, int64_t y_size, bool align_corners) {
  const double scale = AxisRatio(x_size, y_size, align_corners);
  const double inverse = 1 / scale;
  const double window = std::ceil(inverse) * 2 + 2;
  Contributors out;
  out.start.reserve(static_cast<size_t>(x_size + 1));
  for (int64_t x = 0; x < x_size; x++) {
    out.start.push_back(static_cast<int64_t>(out.index.size()));
    int64_t lo = 0, hi = y_size;
    if (std::isfinite(window)) {
      const double first = std::floor(std::floor(static_cast<double>(x) * inverse) - window / 2);
      lo = static_cast<int64_t>(std::max(0.0, first));
      hi = static_cast<int64_t>(std::min(static_cast<double>(y_size), first + window));
    }
    for (int64_t y = lo; y < hi; y++) {
      const double source = static_cast<double>(y) * scale;
      const double nearest = std::min(static_cast<double>(x_size - 1), align_corners ? JsRound(source) : std::floor(source));
      if (nearest == static_cast<double>(x)) out.index.push_back(y);
    }
  }
  out.start.push_back(static_cast<int64_t>(out.index.size()));
  return out;
}

struct NearestGradBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const float* const& dy, float* const& dx,
                                      const ResizeGeometry& g, const Contributors& rows, const Contributors& cols) {
    const int64_t C = g.channels;
    std::vector<double> acc_buffer(static_cast<size_t>(C));
    double* __restrict acc = acc_buffer.data();
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.in_height, r = row % g.in_height;
      for (int64_t c = 0; c < g.in_width; c++) {
        std::fill(acc, acc + C, 0.0);
        for (int64_t i = rows.start[r]; i < rows.start[r + 1]; i++) {
          const float* dy_row = dy + (b * g.out_height + rows.index[i]) * g.out_width * C;
          for (int64_t j = cols.start[c]; j < cols.start[c + 1]; j++) {
            const float* __restrict d = dy_row + cols.index[j] * C;
            for (int64_t k = 0; k < C; k++) acc[k] += static_cast<double>(d[k]);
          }
        }
        float* __restrict o = dx + (row * g.in_width + c) * C;
        for (int64_t k = 0; k < C; k++) o[k] = static_cast<float>(acc[k]);
      }
    }
  }
};

// With both flags tfjs's bilinear source rows and columns run past the image (it reads the
// next image's pixels, or undefined); tfjs's resizeBilinear op forbids the combination.
void CheckBilinearFlags(const ResizeGeometry& g, const char* op) {
  if (g.align_corners && g.half_pixel_centers) {
    ThrowArgError(op, "halfPixelCenters", "false when alignCorners is true", "true");
  }
}

bool OutputEmpty(const ResizeGeometry& g) {
  return g.batch == 0 || g.out_height == 0 || g.out_width == 0 || g.channels == 0;
}

bool InputEmpty(const ResizeGeometry& g) {
  return g.batch == 0 || g.in_height == 0 || g.in_width == 0 || g.channels == 0;
}

template <typename T>
void ResizeBilinearTyped(const T* images, float* out, const ResizeGeometry& g) {
  const double row_ratio = AxisRatio(g.in_height, g.out_height, g.align_corners);
  const double col_ratio = AxisRatio(g.in_width, g.out_width, g.align_corners);
  std::vector<LerpSource> cols(static_cast<size_t>(g.out_width));
  for (int64_t c = 0; c < g.out_width; c++) cols[c] = BilinearSource(c, col_ratio, g.half_pixel_centers, g.in_width);
  const LerpSource* cols_data = cols.data();
  ParallelRows<BilinearBody<T>>(g.batch * g.out_height, GrainFor(g.out_width * g.channels * 4), images, out, g, cols_data,
                                row_ratio);
}

template <typename T>
void ResizeNearestTyped(const T* images, T* out, const ResizeGeometry& g) {
  const double row_ratio = AxisRatio(g.in_height, g.out_height, g.align_corners);
  const double col_ratio = AxisRatio(g.in_width, g.out_width, g.align_corners);
  std::vector<int64_t> cols(static_cast<size_t>(g.out_width));
  for (int64_t c = 0; c < g.out_width; c++) cols[c] = NearestSource(c, col_ratio, g.align_corners, g.half_pixel_centers, g.in_width);
  const int64_t* cols_data = cols.data();
  ParallelRows<NearestBody<T>>(g.batch * g.out_height, GrainFor(g.out_width * g.channels), images, out, g, cols_data,
                               row_ratio);
}

}  // namespace

void CheckResizeGeometry(const ResizeGeometry& g, bool forward, const char* op) {
  constexpr int64_t kLimit = std::numeric_limits<int32_t>::max();
  const std::pair<const char*, int64_t> sizes[] = {
      {"batch", g.batch}, {"inHeight", g.in_height}, {"inWidth", g.in_width}, {"channels", g.channels},
      {"outHeight", g.out_height}, {"outWidth", g.out_width}};
  for (const auto& [name, v] : sizes) {
    if (v < 0 || v > kLimit) ThrowArgError(op, name, "a size in [0, 2^31)", std::to_string(v));
  }
  if (forward && !OutputEmpty(g) && (g.in_height == 0 || g.in_width == 0)) {
    ThrowArgError(op, "images", "an image of at least one pixel for a non-empty output",
                  std::to_string(g.in_height) + "x" + std::to_string(g.in_width) + " pixels");
  }
}

void ResizeBilinear(DType dtype, const void* images, float* out, const ResizeGeometry& g) {
  CheckResizeGeometry(g, true, "resizeBilinear");
  CheckBilinearFlags(g, "resizeBilinear");
  if (OutputEmpty(g)) return;
  if (dtype == DType::kFloat32) {
    ResizeBilinearTyped(static_cast<const float*>(images), out, g);
  } else if (dtype == DType::kInt32) {
    ResizeBilinearTyped(static_cast<const int32_t*>(images), out, g);
  } else {
    throw Error(std::string("resizeBilinear: expected dtype float32 or int32 for images but got ") + DTypeName(dtype));
  }
}

void ResizeNearestNeighbor(DType dtype, const void* images, void* out, const ResizeGeometry& g) {
  CheckResizeGeometry(g, true, "resizeNearestNeighbor");
  if (OutputEmpty(g)) return;
  if (dtype == DType::kFloat32) {
    ResizeNearestTyped(static_cast<const float*>(images), static_cast<float*>(out), g);
  } else if (dtype == DType::kInt32) {
    ResizeNearestTyped(static_cast<const int32_t*>(images), static_cast<int32_t*>(out), g);
  } else {
    throw Error(std::string("resizeNearestNeighbor: expected dtype float32 or int32 for images but got ") + DTypeName(dtype));
  }
}

void ResizeBilinearGrad(const float* dy, float* dx, const ResizeGeometry& g) {
  CheckResizeGeometry(g, false, "resizeBilinearGrad");
  if (InputEmpty(g)) return;
  const std::vector<BilinearGradTap> rows =
      BilinearGradTaps(g.in_height, g.out_height, AxisRatio(g.in_height, g.out_height, g.align_corners));
  const std::vector<BilinearGradTap> cols =
      BilinearGradTaps(g.in_width, g.out_width, AxisRatio(g.in_width, g.out_width, g.align_corners));
  const BilinearGradTap* rows_data = rows.data();
  const BilinearGradTap* cols_data = cols.data();
  const int64_t scatter_per_dx_row = std::max<int64_t>(1, g.out_height * g.out_width * g.channels * 4 / g.in_height);
  ParallelRows<BilinearGradBody>(g.batch * g.in_height, GrainFor(scatter_per_dx_row), dy, dx, g, rows_data, cols_data);
}

void ResizeNearestNeighborGrad(const float* dy, float* dx, const ResizeGeometry& g) {
  CheckResizeGeometry(g, false, "resizeNearestNeighborGrad");
  if (InputEmpty(g)) return;
  const Contributors rows = NearestGradContributors(g.in_height, g.out_height, g.align_corners);
  const Contributors cols = NearestGradContributors(g.in_width, g.out_width, g.align_corners);
  const int64_t per_pixel = std::max<int64_t>(1, (g.out_height * g.out_width) / std::max<int64_t>(1, g.in_height * g.in_width));
  ParallelRows<NearestGradBody>(g.batch * g.in_height, GrainFor(g.in_width * g.channels * per_pixel), dy, dx, g, rows,
                                cols);
}

// ---- Scalar references: tfjs-backend-cpu's loops transcribed, one element at a time. ----

namespace {

template <typename T>
void ResizeBilinearRefTyped(const T* x, float* out, const ResizeGeometry& g) {
  const double row_ratio = AxisRatio(g.in_height, g.out_height, g.align_corners);
  const double col_ratio = AxisRatio(g.in_width, g.out_width, g.align_corners);
  const int64_t s0 = g.in_height * g.in_width * g.channels, s1 = g.in_width * g.channels, s2 = g.channels;
  int64_t out_index = 0;
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t r = 0; r < g.out_height; r++) {
      const double frac_row = g.half_pixel_centers ? row_ratio * (r + 0.5) - 0.5 : row_ratio * r;
      const double row_floor = std::max(0.0, std::floor(frac_row));
      const double row_frac = frac_row - row_floor;
      const double row_ceil = std::min(static_cast<double>(g.in_height - 1), std::ceil(frac_row));
      const int64_t top = b * s0 + static_cast<int64_t>(row_floor) * s1;
      const int64_t bottom = b * s0 + static_cast<int64_t>(row_ceil) * s1;
      for (int64_t c = 0; c < g.out_width; c++) {
        const double frac_col = g.half_pixel_centers ? col_ratio * (c + 0.5) - 0.5 : col_ratio * c;
        const double col_floor = std::max(0.0, std::floor(frac_col));
        const double col_frac = frac_col - col_floor;
        const double col_ceil = std::min(static_cast<double>(g.in_width - 1), std::ceil(frac_col));
        const int64_t left = static_cast<int64_t>(col_floor) * s2, right = static_cast<int64_t>(col_ceil) * s2;
        for (int64_t d = 0; d < g.channels; d++) {
          const double top_left = x[top + left + d], bottom_left = x[bottom + left + d];
          const double top_right = x[top + right + d], bottom_right = x[bottom + right + d];
          const double upper = top_left + (top_right - top_left) * col_frac;
          const double lower = bottom_left + (bottom_right - bottom_left) * col_frac;
          out[out_index++] = static_cast<float>(upper + (lower - upper) * row_frac);
        }
      }
    }
  }
}

template <typename T>
void ResizeNearestRefTyped(const T* x, T* out, const ResizeGeometry& g) {
  const double row_ratio = AxisRatio(g.in_height, g.out_height, g.align_corners);
  const double col_ratio = AxisRatio(g.in_width, g.out_width, g.align_corners);
  const int64_t s0 = g.in_height * g.in_width * g.channels, s1 = g.in_width * g.channels, s2 = g.channels;
  int64_t out_index = 0;
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t r = 0; r < g.out_height; r++) {
      const double frac_row = g.half_pixel_centers ? row_ratio * (r + 0.5) : row_ratio * r;
      double row = std::min(static_cast<double>(g.in_height - 1), g.align_corners ? JsRound(frac_row) : std::floor(frac_row));
      if (g.half_pixel_centers) row = std::max(0.0, row);
      for (int64_t c = 0; c < g.out_width; c++) {
        const double frac_col = g.half_pixel_centers ? col_ratio * (c + 0.5) : col_ratio * c;
        double col = std::min(static_cast<double>(g.in_width - 1), g.align_corners ? JsRound(frac_col) : std::floor(frac_col));
        if (g.half_pixel_centers) col = std::max(0.0, col);
        const int64_t offset = b * s0 + static_cast<int64_t>(row) * s1 + static_cast<int64_t>(col) * s2;
        for (int64_t d = 0; d < g.channels; d++) {
          const float through_float32 = static_cast<float>(x[offset + d]);
          out[out_index++] = FromDouble<T>(through_float32);
        }
      }
    }
  }
}

}  // namespace

void ResizeBilinearRef(DType dtype, const void* images, float* out, const ResizeGeometry& g) {
  CheckResizeGeometry(g, true, "resizeBilinearRef");
  CheckBilinearFlags(g, "resizeBilinearRef");
  if (OutputEmpty(g)) return;
  if (dtype == DType::kFloat32) {
    ResizeBilinearRefTyped(static_cast<const float*>(images), out, g);
  } else if (dtype == DType::kInt32) {
    ResizeBilinearRefTyped(static_cast<const int32_t*>(images), out, g);
  } else {
    throw Error(std::string("resizeBilinearRef: expected dtype float32 or int32 for images but got ") + DTypeName(dtype));
  }
}

void ResizeNearestNeighborRef(DType dtype, const void* images, void* out, const ResizeGeometry& g) {
  CheckResizeGeometry(g, true, "resizeNearestNeighborRef");
  if (OutputEmpty(g)) return;
  if (dtype == DType::kFloat32) {
    ResizeNearestRefTyped(static_cast<const float*>(images), static_cast<float*>(out), g);
  } else if (dtype == DType::kInt32) {
    ResizeNearestRefTyped(static_cast<const int32_t*>(images), static_cast<int32_t*>(out), g);
  } else {
    throw Error(std::string("resizeNearestNeighborRef: expected dtype float32 or int32 for images but got ") + DTypeName(dtype));
  }
}

void ResizeBilinearGradRef(const float* dy, float* dx, const ResizeGeometry& g) {
  CheckResizeGeometry(g, false, "resizeBilinearGradRef");
  const int64_t x_size = g.batch * g.in_height * g.in_width * g.channels;
  std::fill(dx, dx + x_size, 0.0f);
  if (x_size == 0) return;
  const double height_scale = AxisRatio(g.in_height, g.out_height, g.align_corners);
  const double width_scale = AxisRatio(g.in_width, g.out_width, g.align_corners);
  const int64_t s0 = g.in_height * g.in_width * g.channels, s1 = g.in_width * g.channels, s2 = g.channels;
  int64_t offset = 0;
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t r = 0; r < g.out_height; r++) {
      const double dx_r = r * height_scale;
      const double top_index = std::floor(dx_r);
      const double bottom_index = std::min(std::ceil(dx_r), static_cast<double>(g.in_height - 1));
      const int64_t top = b * s0 + static_cast<int64_t>(top_index) * s1;
      const int64_t bottom = b * s0 + static_cast<int64_t>(bottom_index) * s1;
      const double r_lerp = dx_r - top_index;
      const double r_inverse = 1.0 - r_lerp;
      for (int64_t c = 0; c < g.out_width; c++) {
        const double dx_c = c * width_scale;
        const double left_index = std::floor(dx_c);
        const double right_index = std::min(std::ceil(dx_c), static_cast<double>(g.in_width - 1));
        const double c_lerp = dx_c - left_index;
        const double c_inverse = 1.0 - c_lerp;
        const int64_t left = static_cast<int64_t>(left_index) * s2, right = static_cast<int64_t>(right_index) * s2;
        for (int64_t d = 0; d < g.channels; d++) {
          const double v = dy[offset++];
          dx[top + left + d] = static_cast<float>(dx[top + left + d] + v * (r_inverse * c_inverse));
          dx[top + right + d] = static_cast<float>(dx[top + right + d] + v * (r_inverse * c_lerp));
          dx[bottom + left + d] = static_cast<float>(dx[bottom + left + d] + v * (r_lerp * c_inverse));
          dx[bottom + right + d] = static_cast<float>(dx[bottom + right + d] + v * (r_lerp * c_lerp));
        }
      }
    }
  }
}

void ResizeNearestNeighborGradRef(const float* dy, float* dx, const ResizeGeometry& g) {
  CheckResizeGeometry(g, false, "resizeNearestNeighborGradRef");
  const double height_scale = AxisRatio(g.in_height, g.out_height, g.align_corners);
  const double width_scale = AxisRatio(g.in_width, g.out_width, g.align_corners);
  const double inv_height = 1 / height_scale, inv_width = 1 / width_scale;
  const double win_height = std::ceil(inv_height) * 2 + 2, win_width = std::ceil(inv_width) * 2 + 2;
  const int64_t s0 = g.in_height * g.in_width * g.channels, s1 = g.in_width * g.channels, s2 = g.channels;
  const int64_t dy_s0 = g.out_height * g.out_width * g.channels, dy_s1 = g.out_width * g.channels;
  // An unbounded window (see NearestGradContributors) searches all of dy instead.
  const bool rows_bounded = std::isfinite(win_height), cols_bounded = std::isfinite(win_width);
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t r = 0; r < g.in_height; r++) {
      const double start_r = rows_bounded ? std::floor(std::floor(r * inv_height) - win_height / 2) : 0;
      const double rows_searched = rows_bounded ? win_height : static_cast<double>(g.out_height);
      for (int64_t c = 0; c < g.in_width; c++) {
        const double start_c = cols_bounded ? std::floor(std::floor(c * inv_width) - win_width / 2) : 0;
        const double cols_searched = cols_bounded ? win_width : static_cast<double>(g.out_width);
        for (int64_t d = 0; d < g.channels; d++) {
          double accum = 0;
          for (double ri = 0; ri < rows_searched; ri++) {
            const double dy_r = ri + start_r;
            if (dy_r < 0 || dy_r >= g.out_height) continue;
            const double nearest_r =
                std::min(static_cast<double>(g.in_height - 1), g.align_corners ? JsRound(dy_r * height_scale) : std::floor(dy_r * height_scale));
            if (nearest_r != r) continue;
            for (double ci = 0; ci < cols_searched; ci++) {
              const double dy_c = ci + start_c;
              if (dy_c < 0 || dy_c >= g.out_width) continue;
              const double nearest_c =
                  std::min(static_cast<double>(g.in_width - 1), g.align_corners ? JsRound(dy_c * width_scale) : std::floor(dy_c * width_scale));
              if (nearest_c == c) {
                accum += dy[b * dy_s0 + static_cast<int64_t>(dy_r) * dy_s1 + static_cast<int64_t>(dy_c) * g.channels + d];
              }
            }
          }
          dx[b * s0 + r * s1 + c * s2 + d] = static_cast<float>(accum);
        }
      }
    }
  }
}

}  // namespace tessera
