// The scalar reference of the reductions: tfjs-backend-cpu's loops written out one element
// at a time in JS double arithmetic, over the input read as if transposed (kept dims
// outermost, reduced dims innermost, both in row-major order), through full index
// arithmetic. No shortcuts: this is the oracle the optimized engine is tested against.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "cpu/js_numeric.h"
#include "cpu/reduce.h"
#include "cpu/reduce_internal.h"

namespace tessera {
namespace {

struct Walk {
  std::vector<int64_t> kept_sizes, kept_strides, reduced_sizes, reduced_strides;
  int64_t out_size = 1, reduce_size = 1;
};

Walk MakeWalk(const Shape& shape, std::vector<int64_t> axes) {
  std::sort(axes.begin(), axes.end());
  Shape strides = RowMajorStrides(shape);
  Walk w;
  for (size_t d = 0; d < shape.size(); d++) {
    bool reduced = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d));
    (reduced ? w.reduced_sizes : w.kept_sizes).push_back(shape[d]);
    (reduced ? w.reduced_strides : w.kept_strides).push_back(strides[d]);
    (reduced ? w.reduce_size : w.out_size) *= shape[d];
  }
  return w;
}

int64_t OffsetOf(int64_t flat, const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides) {
  int64_t off = 0;
  for (size_t d = sizes.size(); d-- > 0;) {
    off += (flat % sizes[d]) * strides[d];
    flat /= sizes[d];
  }
  return off;
}

bool Truthy(double v) { return v != 0 && !std::isnan(v); }

// Storing a JS number into the output's typed array.
void Store(void* out, DType dtype, int64_t i, double v) {
  switch (dtype) {
    case DType::kFloat32: static_cast<float*>(out)[i] = static_cast<float>(v); break;
    case DType::kInt32: static_cast<int32_t*>(out)[i] = JsToInt32(v); break;
    case DType::kBool: static_cast<uint8_t*>(out)[i] = FromDouble<uint8_t>(v); break;
  }
}

template <typename T>
void RefTyped(ReduceOp op, DType out_dtype, const T* x, const Shape& shape, const std::vector<int64_t>& axes,
              void* out) {
  const Walk w = MakeWalk(shape, axes);
  const int64_t n = w.reduce_size;
  // tfjs reads aVals[offset] even when the reduction is empty: undefined, i.e. NaN here.
  const double undefined = NAN;
  for (int64_t o = 0; o < w.out_size; o++) {
    const int64_t base = OffsetOf(o, w.kept_sizes, w.kept_strides);
    auto at = [&](int64_t q) { return static_cast<double>(x[base + OffsetOf(q, w.reduced_sizes, w.reduced_strides)]); };
    double result = 0;
    switch (op) {
      case ReduceOp::kSum: {
        double sum = 0;
        for (int64_t q = 0; q < n; q++) sum += at(q);
        result = sum;
        break;
      }
      case ReduceOp::kMean: {
        const float size = static_cast<float>(n);
        double sum = 0;
        for (int64_t q = 0; q < n; q++) sum += static_cast<float>(static_cast<float>(at(q)) / size);
        result = sum;
        break;
      }
      case ReduceOp::kProd: {
        double prod = 1;
        for (int64_t q = 0; q < n; q++) prod *= at(q);
        result = prod;
        break;
      }
      case ReduceOp::kMax:
      case ReduceOp::kMin: {
        double m = n > 0 ? at(0) : undefined;
        for (int64_t q = 0; q < n; q++) {
          double v = at(q);
          if (std::isnan(v) || (op == ReduceOp::kMax ? v > m : v < m)) m = v;
        }
        result = m;
        break;
      }
      case ReduceOp::kArgMax:
      case ReduceOp::kArgMin: {
        double m = n > 0 ? at(0) : undefined;
        int64_t index = 0;
        for (int64_t q = 0; q < n; q++) {
          double v = at(q);
          if (op == ReduceOp::kArgMax ? v > m : v < m) {
            m = v;
            index = q;
          }
        }
        result = static_cast<double>(index);
        break;
      }
      case ReduceOp::kAll: {
        double all = n > 0 ? at(0) : undefined;
        for (int64_t q = 0; q < n; q++) all = Truthy(all) ? at(q) : all;
        result = all;
        break;
      }
      case ReduceOp::kAny: {
        double any = n > 0 ? at(0) : undefined;
        for (int64_t q = 0; q < n; q++) any = Truthy(any) ? any : at(q);
        result = any;
        break;
      }
    }
    Store(out, out_dtype, o, result);
  }
}

}  // namespace

void ReduceRef(ReduceOp op, DType in, const void* x, const Shape& shape, const std::vector<int64_t>& axes,
               void* out) {
  CheckReduceArgs("reduceRef", op, in, shape, axes);
  const DType out_dtype = ReduceOutputDType(op, in);
  switch (in) {
    case DType::kFloat32: RefTyped(op, out_dtype, static_cast<const float*>(x), shape, axes, out); break;
    case DType::kInt32: RefTyped(op, out_dtype, static_cast<const int32_t*>(x), shape, axes, out); break;
    case DType::kBool: RefTyped(op, out_dtype, static_cast<const uint8_t*>(x), shape, axes, out); break;
  }
}

}  // namespace tessera
