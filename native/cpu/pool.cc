#include "cpu/pool.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "cpu/js_numeric.h"
#include "cpu/pool_isa.h"

namespace tessera {
namespace {

using pool_isa::GrainFor;
using pool_isa::ParallelRows;

// The input range [begin, end) a window starting at `corner` covers, clipped to [0, limit).
struct Span {
  int64_t begin, end;
  int64_t size() const { return end > begin ? end - begin : 0; }
};

TESSERA_POOL_INLINE Span Clip(int64_t corner, int64_t filter, int64_t limit) {
  return Span{std::max<int64_t>(0, corner), std::min(limit, corner + filter)};
}

TESSERA_POOL_INLINE int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// The output indices whose windows (start o * stride - pad, length filter) contain input
// index i, clipped to [0, out_size).
TESSERA_POOL_INLINE Span Covering(int64_t i, int64_t stride, int64_t pad, int64_t filter, int64_t out_size) {
  int64_t first = FloorDiv(i + pad - filter, stride) + 1;
  int64_t last = FloorDiv(i + pad, stride);
  return Span{std::max<int64_t>(0, first), std::min(out_size, last + 1)};
}

template <typename T>
struct MaxPoolBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const T* const& x, T* const& out,
                                      const Pool2DGeometry& g) {
    const int64_t C = g.channels;
    // tfjs starts from -Infinity and keeps `pixel > max`; for int32, INT32_MIN is that start
    // (an Int32Array stores -Infinity as 0, applied below for empty windows).
    const T start = std::is_same_v<T, float> ? -std::numeric_limits<float>::infinity()
                                             : std::numeric_limits<T>::lowest();
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.out_height, y_r = row % g.out_height;
      const Span rows = Clip(y_r * g.stride_height - g.pad_top, g.filter_height, g.in_height);
      for (int64_t y_c = 0; y_c < g.out_width; y_c++) {
        const Span cols = Clip(y_c * g.stride_width - g.pad_left, g.filter_width, g.in_width);
        T* __restrict o = out + (row * g.out_width + y_c) * C;
        if (rows.size() == 0 || cols.size() == 0) {
          std::fill(o, o + C, std::is_same_v<T, float> ? start : T(0));
          continue;
        }
        std::fill(o, o + C, start);
        for (int64_t x_r = rows.begin; x_r < rows.end; x_r++) {
          const T* px_row = x + ((b * g.in_height + x_r) * g.in_width) * C;
          for (int64_t x_c = cols.begin; x_c < cols.end; x_c++) {
            const T* __restrict p = px_row + x_c * C;
            for (int64_t c = 0; c < C; c++) o[c] = p[c] > o[c] ? p[c] : o[c];
          }
        }
      }
    }
  }
};

template <typename T>
struct AvgPoolBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const T* const& x, T* const& out,
                                      const Pool2DGeometry& g) {
    const int64_t C = g.channels;
    std::vector<double> acc_buffer(static_cast<size_t>(C));
    double* __restrict acc = acc_buffer.data();
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.out_height, y_r = row % g.out_height;
      const Span rows = Clip(y_r * g.stride_height - g.pad_top, g.filter_height, g.in_height);
      for (int64_t y_c = 0; y_c < g.out_width; y_c++) {
        const Span cols = Clip(y_c * g.stride_width - g.pad_left, g.filter_width, g.in_width);
        T* __restrict o = out + (row * g.out_width + y_c) * C;
        std::fill(acc, acc + C, 0.0);
        for (int64_t x_r = rows.begin; x_r < rows.end; x_r++) {
          const T* px_row = x + ((b * g.in_height + x_r) * g.in_width) * C;
          for (int64_t x_c = cols.begin; x_c < cols.end; x_c++) {
            const T* __restrict p = px_row + x_c * C;
            for (int64_t c = 0; c < C; c++) acc[c] += static_cast<double>(p[c]);
          }
        }
        // An empty window is 0 / 0 in tfjs: NaN, stored as 0 in an Int32Array.
        const double count = static_cast<double>(rows.size() * cols.size());
        for (int64_t c = 0; c < C; c++) o[c] = FromDouble<T>(acc[c] / count);
      }
    }
  }
};

// The window-relative position (row * filter_width + col) of each output's first maximum,
// -1 where the window holds no value greater than -Infinity.
struct MaxPositionsBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const float* const& x, int32_t* const& positions,
                                      const Pool2DGeometry& g) {
    const int64_t C = g.channels;
    std::vector<float> best_buffer(static_cast<size_t>(C));
    float* __restrict best = best_buffer.data();
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.out_height, y_r = row % g.out_height;
      const int64_t row_corner = y_r * g.stride_height - g.pad_top;
      const Span rows = Clip(row_corner, g.filter_height, g.in_height);
      for (int64_t y_c = 0; y_c < g.out_width; y_c++) {
        const int64_t col_corner = y_c * g.stride_width - g.pad_left;
        const Span cols = Clip(col_corner, g.filter_width, g.in_width);
        int32_t* __restrict pos = positions + (row * g.out_width + y_c) * C;
        std::fill(best, best + C, -std::numeric_limits<float>::infinity());
        std::fill(pos, pos + C, -1);
        for (int64_t x_r = rows.begin; x_r < rows.end; x_r++) {
          const float* px_row = x + ((b * g.in_height + x_r) * g.in_width) * C;
          for (int64_t x_c = cols.begin; x_c < cols.end; x_c++) {
            const float* __restrict p = px_row + x_c * C;
            const int32_t here = static_cast<int32_t>((x_r - row_corner) * g.filter_width + (x_c - col_corner));
            for (int64_t c = 0; c < C; c++) {
              const bool greater = p[c] > best[c];
              best[c] = greater ? p[c] : best[c];
              pos[c] = greater ? here : pos[c];
            }
          }
        }
      }
    }
  }
};

// v where keep holds, +0 elsewhere, by masking bits: a select the compiler would turn into a
// branch per element (adding +0 instead is exact: the sums it feeds never hold -0).
TESSERA_POOL_INLINE float KeepIf(bool keep, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= 0u - static_cast<uint32_t>(keep);
  std::memcpy(&v, &bits, sizeof bits);
  return v;
}

// dx gathered per input row: each input pixel visits the windows covering it in increasing
// (row, col) order, the order in which tfjs adds them up.
struct MaxPoolGradBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const float* const& dy, const int32_t* const& positions,
                                      float* const& dx, const Pool2DGeometry& g) {
    const int64_t C = g.channels;
    std::vector<double> acc_buffer(static_cast<size_t>(C));
    double* __restrict acc = acc_buffer.data();
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.in_height, x_r = row % g.in_height;
      const Span out_rows = Covering(x_r, g.stride_height, g.pad_top, g.filter_height, g.out_height);
      for (int64_t x_c = 0; x_c < g.in_width; x_c++) {
        const Span out_cols = Covering(x_c, g.stride_width, g.pad_left, g.filter_width, g.out_width);
        std::fill(acc, acc + C, 0.0);
        for (int64_t y_r = out_rows.begin; y_r < out_rows.end; y_r++) {
          const int64_t in_window_row = x_r - (y_r * g.stride_height - g.pad_top);
          for (int64_t y_c = out_cols.begin; y_c < out_cols.end; y_c++) {
            const int32_t here = static_cast<int32_t>(in_window_row * g.filter_width + x_c - (y_c * g.stride_width - g.pad_left));
            const int64_t offset = ((b * g.out_height + y_r) * g.out_width + y_c) * C;
            const int32_t* __restrict pos = positions + offset;
            const float* __restrict d = dy + offset;
            for (int64_t c = 0; c < C; c++) acc[c] += static_cast<double>(KeepIf(pos[c] == here, d[c]));
          }
        }
        float* __restrict o = dx + (row * g.in_width + x_c) * C;
        for (int64_t c = 0; c < C; c++) o[c] = static_cast<float>(acc[c]);
      }
    }
  }
};

struct AvgPoolGradBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const float* const& dy, float* const& dx,
                                      const Pool2DGeometry& g) {
    const int64_t C = g.channels;
    const double multiplier = 1.0 / static_cast<double>(g.filter_height * g.filter_width);
    std::vector<double> acc_buffer(static_cast<size_t>(C));
    double* __restrict acc = acc_buffer.data();
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / g.in_height, x_r = row % g.in_height;
      const Span out_rows = Covering(x_r, g.stride_height, g.pad_top, g.filter_height, g.out_height);
      for (int64_t x_c = 0; x_c < g.in_width; x_c++) {
        const Span out_cols = Covering(x_c, g.stride_width, g.pad_left, g.filter_width, g.out_width);
        std::fill(acc, acc + C, 0.0);
        for (int64_t y_r = out_rows.begin; y_r < out_rows.end; y_r++) {
          for (int64_t y_c = out_cols.begin; y_c < out_cols.end; y_c++) {
            const float* __restrict d = dy + ((b * g.out_height + y_r) * g.out_width + y_c) * C;
            for (int64_t c = 0; c < C; c++) acc[c] += static_cast<double>(d[c]);
          }
        }
        float* __restrict o = dx + (row * g.in_width + x_c) * C;
        for (int64_t c = 0; c < C; c++) o[c] = static_cast<float>(acc[c] * multiplier);
      }
    }
  }
};

template <typename T>
void Pool2DTyped(PoolType type, const T* x, T* out, const Pool2DGeometry& g) {
  const int64_t rows = g.batch * g.out_height;
  const int64_t grain = GrainFor(g.out_width * g.channels * g.filter_height * g.filter_width);
  if (type == PoolType::kMax) {
    ParallelRows<MaxPoolBody<T>>(rows, grain, x, out, g);
  } else {
    ParallelRows<AvgPoolBody<T>>(rows, grain, x, out, g);
  }
}

bool Empty(const Pool2DGeometry& g, bool of_output) {
  const int64_t h = of_output ? g.out_height : g.in_height;
  const int64_t w = of_output ? g.out_width : g.in_width;
  return g.batch == 0 || h == 0 || w == 0 || g.channels == 0;
}

}  // namespace

void CheckPool2DGeometry(const Pool2DGeometry& g, const char* op) {
  constexpr int64_t kLimit = std::numeric_limits<int32_t>::max();
  const std::pair<const char*, int64_t> sizes[] = {
      {"batch", g.batch}, {"inHeight", g.in_height}, {"inWidth", g.in_width}, {"channels", g.channels},
      {"outHeight", g.out_height}, {"outWidth", g.out_width}};
  for (const auto& [name, v] : sizes) {
    if (v < 0 || v > kLimit) ThrowArgError(op, std::string("geometry.") + name, "a size in [0, 2^31)", std::to_string(v));
  }
  const std::pair<const char*, int64_t> positives[] = {
      {"filterHeight", g.filter_height}, {"filterWidth", g.filter_width},
      {"strideHeight", g.stride_height}, {"strideWidth", g.stride_width}};
  for (const auto& [name, v] : positives) {
    if (v < 1 || v > kLimit) ThrowArgError(op, std::string("geometry.") + name, "an integer in [1, 2^31)", std::to_string(v));
  }
  const std::pair<const char*, int64_t> pads[] = {{"padTop", g.pad_top}, {"padLeft", g.pad_left}};
  for (const auto& [name, v] : pads) {
    if (v < -kLimit || v > kLimit) ThrowArgError(op, std::string("geometry.") + name, "an integer of magnitude below 2^31", std::to_string(v));
  }
}

void Pool2D(PoolType type, DType dtype, const void* x, void* out, const Pool2DGeometry& g) {
  CheckPool2DGeometry(g, "pool2d");
  if (Empty(g, true)) return;
  if (dtype == DType::kFloat32) {
    Pool2DTyped(type, static_cast<const float*>(x), static_cast<float*>(out), g);
  } else if (dtype == DType::kInt32) {
    Pool2DTyped(type, static_cast<const int32_t*>(x), static_cast<int32_t*>(out), g);
  } else {
    throw Error(std::string("pool2d: expected dtype float32 or int32 for x but got ") + DTypeName(dtype));
  }
}

void MaxPoolGrad(const float* dy, const float* x, float* dx, const Pool2DGeometry& g) {
  CheckPool2DGeometry(g, "maxPoolGrad");
  if (Empty(g, false)) return;
  const int64_t out_rows = g.batch * g.out_height;
  std::vector<int32_t> positions(static_cast<size_t>(out_rows * g.out_width * g.channels));
  const int32_t* positions_data = positions.data();
  int32_t* positions_out = positions.data();
  ParallelRows<MaxPositionsBody>(out_rows, GrainFor(g.out_width * g.channels * g.filter_height * g.filter_width), x,
                                 positions_out, g);
  const int64_t window_rows = (g.filter_height + g.stride_height - 1) / g.stride_height;
  const int64_t window_cols = (g.filter_width + g.stride_width - 1) / g.stride_width;
  ParallelRows<MaxPoolGradBody>(g.batch * g.in_height, GrainFor(g.in_width * g.channels * window_rows * window_cols), dy,
                                positions_data, dx, g);
}

void AvgPoolGrad(const float* dy, float* dx, const Pool2DGeometry& g) {
  CheckPool2DGeometry(g, "avgPoolGrad");
  if (Empty(g, false)) return;
  const int64_t window_rows = (g.filter_height + g.stride_height - 1) / g.stride_height;
  const int64_t window_cols = (g.filter_width + g.stride_width - 1) / g.stride_width;
  ParallelRows<AvgPoolGradBody>(g.batch * g.in_height, GrainFor(g.in_width * g.channels * window_rows * window_cols), dy,
                                dx, g);
}

// ---- Scalar references: tfjs-backend-cpu's loops, one element at a time, in doubles. ----

namespace {

template <typename T>
void Pool2DRefTyped(PoolType type, const T* x, T* out, const Pool2DGeometry& g) {
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t d = 0; d < g.channels; d++) {
      for (int64_t y_r = 0; y_r < g.out_height; y_r++) {
        const int64_t r_corner = y_r * g.stride_height - g.pad_top;
        const int64_t r_min = std::max<int64_t>(0, r_corner);
        const int64_t r_max = std::min(g.in_height, g.filter_height + r_corner);
        for (int64_t y_c = 0; y_c < g.out_width; y_c++) {
          const int64_t c_corner = y_c * g.stride_width - g.pad_left;
          const int64_t c_min = std::max<int64_t>(0, c_corner);
          const int64_t c_max = std::min(g.in_width, g.filter_width + c_corner);
          double max_value = -std::numeric_limits<double>::infinity();
          double sum = 0;
          double count = 0;
          for (int64_t x_r = r_min; x_r < r_max; x_r++) {
            for (int64_t x_c = c_min; x_c < c_max; x_c++) {
              const double pixel = x[((b * g.in_height + x_r) * g.in_width + x_c) * g.channels + d];
              if (type == PoolType::kMax) {
                if (pixel > max_value) max_value = pixel;
              } else {
                sum += pixel;
                count++;
              }
            }
          }
          out[((b * g.out_height + y_r) * g.out_width + y_c) * g.channels + d] =
              FromDouble<T>(type == PoolType::kMax ? max_value : sum / count);
        }
      }
    }
  }
}

// tfjs's maxPoolPositions: the window-relative index of the first maximum, -1 if none.
std::vector<int32_t> MaxPositionsRef(const float* x, const Pool2DGeometry& g) {
  std::vector<int32_t> positions(static_cast<size_t>(g.batch * g.out_height * g.out_width * g.channels));
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t d = 0; d < g.channels; d++) {
      for (int64_t y_r = 0; y_r < g.out_height; y_r++) {
        const int64_t r_corner = y_r * g.stride_height - g.pad_top;
        const int64_t r_max = std::min(g.in_height, g.filter_height + r_corner);
        for (int64_t y_c = 0; y_c < g.out_width; y_c++) {
          const int64_t c_corner = y_c * g.stride_width - g.pad_left;
          const int64_t c_max = std::min(g.in_width, g.filter_width + c_corner);
          double max_value = -std::numeric_limits<double>::infinity();
          int32_t max_position = -1;
          for (int64_t x_r = std::max<int64_t>(0, r_corner); x_r < r_max; x_r++) {
            for (int64_t x_c = std::max<int64_t>(0, c_corner); x_c < c_max; x_c++) {
              const double pixel = x[((b * g.in_height + x_r) * g.in_width + x_c) * g.channels + d];
              if (pixel > max_value) {
                max_value = pixel;
                max_position = static_cast<int32_t>((x_r - r_corner) * g.filter_width + (x_c - c_corner));
              }
            }
          }
          positions[((b * g.out_height + y_r) * g.out_width + y_c) * g.channels + d] = max_position;
        }
      }
    }
  }
  return positions;
}

// tfjs's gradient loop: for each dx pixel, the filter taps (w_r, w_c) of the transposed
// window whose output index (corner + w) / stride is a whole number inside the output.
template <typename Tap>
void PoolGradRefLoop(const Pool2DGeometry& g, float* dx, double multiplier, Tap tap) {
  const int64_t pad_top = g.filter_height - 1 - g.pad_top;
  const int64_t pad_left = g.filter_width - 1 - g.pad_left;
  for (int64_t b = 0; b < g.batch; b++) {
    for (int64_t d = 0; d < g.channels; d++) {
      for (int64_t dx_r = 0; dx_r < g.in_height; dx_r++) {
        for (int64_t dx_c = 0; dx_c < g.in_width; dx_c++) {
          double dot = 0;
          for (int64_t w_r = 0; w_r < g.filter_height; w_r++) {
            const int64_t num_r = dx_r - pad_top + w_r;
            if (num_r < 0 || num_r % g.stride_height != 0 || num_r / g.stride_height >= g.out_height) continue;
            const int64_t dy_r = num_r / g.stride_height;
            for (int64_t w_c = 0; w_c < g.filter_width; w_c++) {
              const int64_t num_c = dx_c - pad_left + w_c;
              if (num_c < 0 || num_c % g.stride_width != 0 || num_c / g.stride_width >= g.out_width) continue;
              const int64_t dy_c = num_c / g.stride_width;
              dot += tap(((b * g.out_height + dy_r) * g.out_width + dy_c) * g.channels + d, w_r, w_c);
            }
          }
          dx[((b * g.in_height + dx_r) * g.in_width + dx_c) * g.channels + d] = static_cast<float>(dot * multiplier);
        }
      }
    }
  }
}

}  // namespace

void Pool2DRef(PoolType type, DType dtype, const void* x, void* out, const Pool2DGeometry& g) {
  CheckPool2DGeometry(g, "pool2dRef");
  if (dtype == DType::kFloat32) {
    Pool2DRefTyped(type, static_cast<const float*>(x), static_cast<float*>(out), g);
  } else if (dtype == DType::kInt32) {
    Pool2DRefTyped(type, static_cast<const int32_t*>(x), static_cast<int32_t*>(out), g);
  } else {
    throw Error(std::string("pool2dRef: expected dtype float32 or int32 for x but got ") + DTypeName(dtype));
  }
}

void MaxPoolGradRef(const float* dy, const float* x, float* dx, const Pool2DGeometry& g) {
  CheckPool2DGeometry(g, "maxPoolGradRef");
  const std::vector<int32_t> positions = MaxPositionsRef(x, g);
  const int64_t last = g.filter_height * g.filter_width - 1;
  PoolGradRefLoop(g, dx, 1.0, [&](int64_t dy_index, int64_t w_r, int64_t w_c) {
    // The transposed tap (w_r, w_c) is window position last - (w_r * filter_width + w_c).
    const bool selected = last - positions[dy_index] == w_r * g.filter_width + w_c;
    return selected ? static_cast<double>(dy[dy_index]) : 0.0;
  });
}

void AvgPoolGradRef(const float* dy, float* dx, const Pool2DGeometry& g) {
  CheckPool2DGeometry(g, "avgPoolGradRef");
  const double multiplier = 1.0 / static_cast<double>(g.filter_height * g.filter_width);
  PoolGradRefLoop(g, dx, multiplier, [&](int64_t dy_index, int64_t, int64_t) { return static_cast<double>(dy[dy_index]); });
}

}  // namespace tessera
