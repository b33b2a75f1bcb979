#include "core/shape.h"

#include <algorithm>

#include "core/errors.h"

namespace tessera {

int64_t ShapeSize(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape RowMajorStrides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Shape BroadcastShapes(const Shape& a, const Shape& b, const std::string& op) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; i++) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw Error(op + ": shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                  " cannot be broadcast together");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  Shape in_strides = RowMajorStrides(in);
  size_t offset = out.size() - in.size();
  for (size_t i = 0; i < in.size(); i++) {
    strides[i + offset] = in[i] == 1 ? 0 : in_strides[i];
  }
  return strides;
}

BroadcastPlan PlanBroadcast(const Shape& a_shape, const Shape& b_shape, const Shape& out_shape) {
  // Walks the dims innermost first computing each input's broadcast stride on the fly: this
  // runs once per elementwise call, so tiny ops should not pay for temporary vectors.
  const size_t rank = out_shape.size();
  BroadcastPlan p;
  p.shape.reserve(rank + 1);
  p.a_strides.reserve(rank + 1);
  p.b_strides.reserve(rank + 1);
  int64_t a_run = 1, b_run = 1;  // each input's row-major stride at the current dim
  for (size_t j = 0; j < rank; j++) {
    const size_t i = rank - 1 - j;
    const int64_t n = out_shape[i];
    const int64_t da = j < a_shape.size() ? a_shape[a_shape.size() - 1 - j] : 1;
    const int64_t db = j < b_shape.size() ? b_shape[b_shape.size() - 1 - j] : 1;
    const int64_t as = da == 1 ? 0 : a_run;
    const int64_t bs = db == 1 ? 0 : b_run;
    a_run *= da;
    b_run *= db;
    if (n == 1) continue;
    if (!p.shape.empty()) {
      // Merge into the inner neighbour when both inputs continue it (or both broadcast).
      const size_t k = p.shape.size() - 1;
      auto continues = [&](int64_t inner, int64_t outer) { return outer == 0 ? inner == 0 : outer == inner * p.shape[k]; };
      if (continues(p.a_strides[k], as) && continues(p.b_strides[k], bs)) {
        p.shape[k] *= n;
        continue;
      }
    }
    p.shape.push_back(n);
    p.a_strides.push_back(as);
    p.b_strides.push_back(bs);
  }
  if (p.shape.empty()) {
    p.shape.push_back(1);
    p.a_strides.push_back(0);
    p.b_strides.push_back(0);
  }
  // Built innermost first; callers index outermost first.
  std::reverse(p.shape.begin(), p.shape.end());
  std::reverse(p.a_strides.begin(), p.a_strides.end());
  std::reverse(p.b_strides.begin(), p.b_strides.end());
  return p;
}

}  // namespace tessera
