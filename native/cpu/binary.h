// Binary elementwise ops with numpy broadcasting, matching tfjs-backend-cpu's semantics
// (JavaScript arithmetic on doubles, stored into the output's typed array).
#pragma once
#include <string>

#include "core/dtype.h"
#include "core/shape.h"

namespace tessera {

enum class BinaryOp {
  kAdd, kSub, kMul, kRealDiv, kFloorDiv, kMaximum, kMinimum, kPow, kSquaredDifference,
  kMod, kAtan2, kBitwiseAnd, kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual,
  kLogicalAnd, kLogicalOr, kLogicalXor,
  kLast = kLogicalXor,
};

// Parses a tfjs kernel name (Add, RealDiv, ...); throws for an unknown name.
BinaryOp ParseBinaryOp(const std::string& name);
// Comparisons and logical ops produce bool; FloorDiv produces int32; the rest keep the input dtype.
bool BinaryOpReturnsBool(BinaryOp op);

// out = a (op) b, with a, b of dtype `in` broadcast to out_shape (which the caller has
// computed with BroadcastShapes). Threaded above a size threshold.
void Binary(BinaryOp op, DType in, const void* a, const Shape& a_shape, const void* b,
            const Shape& b_shape, void* out, const Shape& out_shape);
// The scalar reference: one element at a time through full index arithmetic.
void BinaryRef(BinaryOp op, DType in, const void* a, const Shape& a_shape, const void* b,
               const Shape& b_shape, void* out, const Shape& out_shape);

}  // namespace tessera
