// Shapes, strides and broadcasting (numpy rules, as tfjs uses them).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

using Shape = std::vector<int64_t>;

int64_t ShapeSize(const Shape& shape);
Shape RowMajorStrides(const Shape& shape);
std::string ShapeToString(const Shape& shape);

// The broadcast of a and b; throws naming `op` if they are incompatible.
Shape BroadcastShapes(const Shape& a, const Shape& b, const std::string& op);

// Strides for reading `in` as if it had shape `out` (0 on broadcast dimensions), aligned
// to out's rank.
std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out);

// Two inputs broadcast to `out`, with adjacent dimensions merged wherever both inputs stay
// contiguous (or both broadcast) across them and size-1 output dimensions dropped, so most
// calls become a short loop nest whose innermost loop is contiguous or a scalar broadcast.
// Always at least one dimension.
struct BroadcastPlan {
  Shape shape;
  std::vector<int64_t> a_strides, b_strides;
};
BroadcastPlan PlanBroadcast(const Shape& a_shape, const Shape& b_shape, const Shape& out_shape);

}  // namespace tessera
