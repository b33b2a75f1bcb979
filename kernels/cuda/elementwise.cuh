// Elementwise kernels on CUDA: binary ops with numpy broadcasting and unary ops (math and
// activations), each element computed the way tfjs-backend-cpu computes it (the JavaScript
// formula in double, rounded once to the output type). Same-shape and scalar-broadcast
// operands take a float4 path; other broadcasts index through merged dimensions.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"
#include "core/shape.h"
#include "cpu/binary.h"
#include "cpu/unary.h"

namespace tessera {

// Whether the CUDA kernels take `op` on inputs of `dtype` (float32: the arithmetic ops and
// comparisons; int32: Add, Sub, Mul, Maximum, Minimum, SquaredDifference and comparisons).
bool CudaBinarySupports(BinaryOp op, DType dtype);
// float32 inputs only; the ops with a bool output (IsNan, ...) and Round stay on the CPU.
bool CudaUnarySupports(UnaryOp op);

constexpr int kCudaMaxBroadcastRank = 8;

// How a binary call indexes its inputs: flat (both have out's size), one scalar operand,
// or general (merged dimensions, at most kCudaMaxBroadcastRank of them).
enum class BinaryIndexing : int { kFlat = 0, kScalarA, kScalarB, kGeneral };
struct BinaryLaunch {
  BinaryIndexing indexing;
  BroadcastPlan plan;  // for kGeneral
  bool vectorized;     // float4 loads and stores
};
BinaryLaunch PlanBinaryCuda(DType dtype, bool bool_out, const Shape& a_shape, const Shape& b_shape,
                            const Shape& out_shape);

// out has BinaryOpReturnsBool(op) ? bool (one byte per element) : dtype.
void BinaryCuda(BinaryOp op, DType dtype, const void* a, const Shape& a_shape, const void* b, const Shape& b_shape,
                void* out, const Shape& out_shape, cudaStream_t stream);

void UnaryCuda(UnaryOp op, const float* x, float* out, int64_t n, const UnaryAttrs& attrs, cudaStream_t stream);

}  // namespace tessera
