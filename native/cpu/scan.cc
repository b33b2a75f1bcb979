// Cumsum and Cumprod along any axis, read in place: the input is [outer, n, inner] around
// the axis, and each step along it updates a whole contiguous run of `inner` columns, so an
// axis other than the last vectorizes across those columns instead of being transposed.
//
// tfjs writes each partial result into the output typed array and reads it back for the
// next step, so every step is rounded to the output dtype: float32 steps are single float32
// additions or multiplications (correctly rounded, as the double operation then the store
// is), int32 sums wrap, int32 products are ToInt32 of the double product.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <unordered_map>

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/js_numeric.h"
#include "cpu/reduce.h"
#include "cpu/reduce_internal.h"

namespace tessera {
namespace {

constexpr int64_t kParallelGrain = 1 << 15;
constexpr int64_t kTile = 1024;

struct SumF32 {
  static constexpr float kIdentity = 0;
  static TESSERA_INLINE float Apply(float prev, float v) { return prev + v; }
};
template <typename T>
struct SumI32 {
  static constexpr int32_t kIdentity = 0;
  static TESSERA_INLINE int32_t Apply(int32_t prev, T v) {
    return static_cast<int32_t>(static_cast<uint32_t>(prev) + static_cast<uint32_t>(static_cast<int32_t>(v)));
  }
};
struct ProdF32 {
  static constexpr float kIdentity = 1;
  static TESSERA_INLINE float Apply(float prev, float v) { return prev * v; }
};
template <typename T>
struct ProdI32 {
  static constexpr int32_t kIdentity = 1;
  static TESSERA_INLINE int32_t Apply(int32_t prev, T v) {
    const double p = static_cast<double>(v) * static_cast<double>(prev);
    // Products of int32 values that fit in int32 need no wrapping; the rest go through the
    // exact ToInt32 of the (possibly rounded) double.
    return std::fabs(p) < 2147483648.0 ? static_cast<int32_t>(p) : JsToInt32(p);
  }
};

template <class Op, typename T, typename O>
void ScanTyped(const T* x, O* y, int64_t outer, int64_t n, int64_t inner, bool exclusive, bool reverse) {
  const int64_t tiles = (inner + kTile - 1) / kTile;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / (n * std::min(inner, kTile)));
  if (inner == 1) {
    // Along the last axis each row is one dependency chain: no columns to vectorize over.
    ParallelFor(outer, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        const T* xr = x + o * n;
        O* yr = y + o * n;
        const int64_t first = reverse ? n - 1 : 0, step = reverse ? -1 : 1;
        O acc = exclusive ? Op::kIdentity : static_cast<O>(xr[first]);
        yr[first] = acc;
        for (int64_t s = 1, j = first + step; s < n; s++, j += step) {
          acc = Op::Apply(acc, xr[exclusive ? j - step : j]);
          yr[j] = acc;
        }
      }
    });
    return;
  }
  ParallelFor(outer * tiles, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / tiles, c0 = (t % tiles) * kTile, cn = std::min(kTile, inner - c0);
      const T* xb = x + o * n * inner + c0;
      O* yb = y + o * n * inner + c0;
      for (int64_t s = 0; s < n; s++) {
        const int64_t j = reverse ? n - 1 - s : s;
        O* yj = yb + j * inner;
        if (s == 0) {
          const T* xj = xb + j * inner;
          for (int64_t c = 0; c < cn; c++) yj[c] = exclusive ? Op::kIdentity : static_cast<O>(xj[c]);
          continue;
        }
        const int64_t prev = reverse ? j + 1 : j - 1;
        const T* src = xb + (exclusive ? prev : j) * inner;
        const O* yp = yb + prev * inner;
        for (int64_t c = 0; c < cn; c++) yj[c] = Op::Apply(yp[c], src[c]);
      }
    }
  });
}

template <typename T>
void ScanDispatch(ScanOp op, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool exclusive,
                  bool reverse) {
  const T* in = static_cast<const T*>(x);
  if constexpr (std::is_same_v<T, float>) {
    if (op == ScanOp::kCumsum) {
      ScanTyped<SumF32>(in, static_cast<float*>(y), outer, n, inner, exclusive, reverse);
    } else {
      ScanTyped<ProdF32>(in, static_cast<float*>(y), outer, n, inner, exclusive, reverse);
    }
  } else if (op == ScanOp::kCumsum) {
    ScanTyped<SumI32<T>>(in, static_cast<int32_t*>(y), outer, n, inner, exclusive, reverse);
  } else {
    ScanTyped<ProdI32<T>>(in, static_cast<int32_t*>(y), outer, n, inner, exclusive, reverse);
  }
}

struct ScanGeometry {
  int64_t outer = 1, n = 1, inner = 1;
};

ScanGeometry Geometry(const char* what, const Shape& shape, int64_t axis) {
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) {
    ThrowArgError(what, "axis", "an integer in [0, " + std::to_string(shape.size()) + ")", std::to_string(axis));
  }
  ScanGeometry g;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); d++) {
    (d < axis ? g.outer : d == axis ? g.n : g.inner) *= shape[d];
  }
  return g;
}

}  // namespace

ScanOp ParseScanOp(const std::string& name) {
  if (name == "Cumsum") return ScanOp::kCumsum;
  if (name == "Cumprod") return ScanOp::kCumprod;
  throw Error("scan: unknown op '" + name + "'");
}

void Scan(ScanOp op, DType in, const void* x, const Shape& shape, int64_t axis, bool exclusive, bool reverse,
          void* out) {
  const ScanGeometry g = Geometry("scan", shape, axis);
  if (g.outer * g.n * g.inner == 0) return;
  switch (in) {
    case DType::kFloat32: ScanDispatch<float>(op, x, out, g.outer, g.n, g.inner, exclusive, reverse); break;
    case DType::kInt32: ScanDispatch<int32_t>(op, x, out, g.outer, g.n, g.inner, exclusive, reverse); break;
    case DType::kBool: ScanDispatch<uint8_t>(op, x, out, g.outer, g.n, g.inner, exclusive, reverse); break;
  }
}

namespace {

// tfjs's loop over the transposed input, in doubles, storing each step into the output and
// reading it back.
template <typename T, typename O>
void ScanRefTyped(ScanOp op, const T* x, O* y, const ScanGeometry& g, bool exclusive, bool reverse) {
  const double identity = op == ScanOp::kCumsum ? 0 : 1;
  for (int64_t o = 0; o < g.outer; o++) {
    for (int64_t c = 0; c < g.inner; c++) {
      auto at = [&](int64_t j) { return (o * g.n + j) * g.inner + c; };
      for (int64_t s = 0; s < g.n; s++) {
        const int64_t j = reverse ? g.n - s - 1 : s;
        if (s == 0) {
          y[at(j)] = FromDouble<O>(exclusive ? identity : static_cast<double>(x[at(j)]));
          continue;
        }
        const int64_t prev = reverse ? j + 1 : j - 1;
        const double v = static_cast<double>(x[at(exclusive ? prev : j)]);
        const double p = static_cast<double>(y[at(prev)]);
        y[at(j)] = FromDouble<O>(op == ScanOp::kCumsum ? v + p : v * p);
      }
    }
  }
}

}  // namespace

void ScanRef(ScanOp op, DType in, const void* x, const Shape& shape, int64_t axis, bool exclusive, bool reverse,
             void* out) {
  const ScanGeometry g = Geometry("scanRef", shape, axis);
  switch (in) {
    case DType::kFloat32:
      ScanRefTyped(op, static_cast<const float*>(x), static_cast<float*>(out), g, exclusive, reverse);
      break;
    case DType::kInt32:
      ScanRefTyped(op, static_cast<const int32_t*>(x), static_cast<int32_t*>(out), g, exclusive, reverse);
      break;
    case DType::kBool:
      ScanRefTyped(op, static_cast<const uint8_t*>(x), static_cast<int32_t*>(out), g, exclusive, reverse);
      break;
  }
}

}  // namespace tessera
