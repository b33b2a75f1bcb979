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
  std::vector<int64_t> as = BroadcastStrides(a_shape, out_shape);
  std::vector<int64_t> bs = BroadcastStrides(b_shape, out_shape);
  BroadcastPlan p;
  for (size_t i = 0; i < out_shape.size(); i++) {
    if (out_shape[i] == 1) continue;
    if (!p.shape.empty()) {
      size_t k = p.shape.size() - 1;
      auto mergeable = [&](int64_t prev, int64_t cur) { return cur == 0 ? prev == 0 : prev == cur * out_shape[i]; };
      if (mergeable(p.a_strides[k], as[i]) && mergeable(p.b_strides[k], bs[i])) {
        p.shape[k] *= out_shape[i];
        p.a_strides[k] = as[i];
        p.b_strides[k] = bs[i];
        continue;
      }
    }
    p.shape.push_back(out_shape[i]);
    p.a_strides.push_back(as[i]);
    p.b_strides.push_back(bs[i]);
  }
  if (p.shape.empty()) {
    p.shape.push_back(1);
    p.a_strides.push_back(0);
    p.b_strides.push_back(0);
  }
  return p;
}

}  // namespace tessera
