// Unary elementwise kernels, activations and the small kernels around them (Cast, Fill,
// Select, AddN, Prelu, EluGrad), matching tfjs-backend-cpu: each element is computed the way
// its JavaScript kernel computes it (in doubles, Math.* functions) and stored the way a typed
// array store converts a number.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace tessera {

enum class UnaryOp {
  kAbs, kAcos, kAcosh, kAsin, kAsinh, kAtan, kAtanh, kCeil, kCos, kCosh, kErf, kExp, kExpm1,
  kFloor, kIsFinite, kIsInf, kIsNan, kLog, kLog1p, kLogicalNot, kNeg, kReciprocal, kRound,
  kRsqrt, kSign, kSin, kSinh, kSqrt, kSquare, kTan, kTanh, kStep, kClipByValue, kRelu, kRelu6,
  kLeakyRelu, kElu, kSelu, kSigmoid, kSoftplus,
};

// The attributes some ops take: Step and LeakyRelu read alpha, ClipByValue the bounds.
struct UnaryAttrs {
  double alpha = 0;
  double clip_min = 0;
  double clip_max = 0;
};

// Parses a tfjs kernel name (Abs, Sigmoid, ...); throws for an unknown name.
UnaryOp ParseUnaryOp(const std::string& name);
// tfjs's output dtype: bool for IsFinite/IsInf/IsNan/LogicalNot, float32 for Exp and
// LeakyRelu, the input's dtype otherwise.
DType UnaryOutDType(UnaryOp op, DType in);

// out[i] = op(x[i]) for n elements; `out` has dtype UnaryOutDType(op, in). Float32 exp-based
// activations (Exp, Expm1, Sigmoid, Tanh, Elu, Selu) take a vectorized double-precision path
// on AVX2 machines whose results are within 1 float ulp of the reference; every other
// op and dtype gives the reference's results exactly. Threaded above a size threshold.
void Unary(UnaryOp op, DType in, const void* x, void* out, int64_t n, const UnaryAttrs& attrs);
// The scalar reference: the JavaScript formula per element, in doubles, through libm.
void UnaryRef(UnaryOp op, DType in, const void* x, void* out, int64_t n, const UnaryAttrs& attrs);

// Converts n elements between float32, int32 and bool the way tfjs's Cast does (to int32:
// ECMAScript ToInt32; to bool: x !== 0, so NaN is true).
void Cast(DType in, const void* x, DType out_dtype, void* out, int64_t n);
void CastRef(DType in, const void* x, DType out_dtype, void* out, int64_t n);

// Fills n elements of `dtype` with `value` as a typed array's fill() stores it.
void Fill(DType dtype, void* out, int64_t n, double value);
void FillRef(DType dtype, void* out, int64_t n, double value);

// out[i] = condition[i / inner] == 1 ? t[i] : e[i] for n = condition_size * inner elements:
// inner is 1 when the condition has t's shape, the size of a row of t when it is a vector
// over t's first dimension. t and e may differ in dtype; out has their upcast dtype.
void Select(const uint8_t* condition, int64_t condition_size, DType t_dtype, const void* t,
            DType e_dtype, const void* e, DType out_dtype, void* out, int64_t n);
void SelectRef(const uint8_t* condition, int64_t condition_size, DType t_dtype, const void* t,
               DType e_dtype, const void* e, DType out_dtype, void* out, int64_t n);

// out = ((0 + x0) + x1) + ... elementwise, in the dtype's own arithmetic (float32 sums are
// rounded after every addition, as tfjs accumulates into a Float32Array).
void AddN(DType dtype, const std::vector<const void*>& inputs, void* out, int64_t n);
void AddNRef(DType dtype, const std::vector<const void*>& inputs, void* out, int64_t n);

// out = x < 0 ? alpha * x : x with x and alpha broadcast to out_shape; out is float32.
void Prelu(DType x_dtype, const void* x, const Shape& x_shape, DType alpha_dtype, const void* alpha,
           const Shape& alpha_shape, float* out, const Shape& out_shape);
void PreluRef(DType x_dtype, const void* x, const Shape& x_shape, DType alpha_dtype, const void* alpha,
              const Shape& alpha_shape, float* out, const Shape& out_shape);

// The gradient of Elu given its output y: y >= 0 ? dy : dy * (y + 1).
void EluGrad(const float* dy, const float* y, float* out, int64_t n);
void EluGradRef(const float* dy, const float* y, float* out, int64_t n);

}  // namespace tessera
