// Batched matrix products with broadcast batch dimensions and a fused bias and activation:
// the kernels under tfjs's BatchMatMul and _FusedMatMul.
#pragma once
#include <cstdint>
#include <string>

#include "core/shape.h"
#include "cpu/gemm.h"

namespace tessera {

// What follows the product, per element of the output: + bias, then the activation. bias and
// prelu_alpha are read as broadcast to the output shape (numpy rules; they may not enlarge it).
struct MatMulEpilogue {
  const float* bias = nullptr;
  Shape bias_shape;
  Activation activation = Activation::kNone;
  double leaky_alpha = 0.2;
  const float* prelu_alpha = nullptr;  // kPrelu
  Shape prelu_shape;
};

// tfjs activation names: linear, relu, relu6, leakyrelu, prelu, elu, sigmoid.
Activation ParseActivation(const std::string& name, const std::string& op);

// The output shape of op(a) * op(b): the broadcast of the batch dimensions (all but the last
// two, numpy rules), then [m, n]. Throws naming `op` for ranks below 2, mismatched inner
// dimensions or batch dimensions that do not broadcast.
Shape MatMulShape(const Shape& a_shape, const Shape& b_shape, bool trans_a, bool trans_b, const std::string& op);

// out = activation(op(a) * op(b) + bias) for each batch, out of the shape MatMulShape gives.
// Threaded across the batch when the matrices are small, inside each product otherwise.
void MatMul(const float* a, const Shape& a_shape, const float* b, const Shape& b_shape, bool trans_a, bool trans_b,
            float* out, const MatMulEpilogue& epilogue);

// int32 product, wrapping modulo 2^32 like tfjs's Int32Array stores (exact wherever tfjs's
// double sums are, i.e. partial sums below 2^53). No epilogue: tfjs fuses none for int32.
void MatMulInt32(const int32_t* a, const Shape& a_shape, const int32_t* b, const Shape& b_shape, bool trans_a,
                 bool trans_b, int32_t* out);

// Scalar references: full index arithmetic per element, double accumulation.
void MatMulRef(const float* a, const Shape& a_shape, const float* b, const Shape& b_shape, bool trans_a,
               bool trans_b, float* out, const MatMulEpilogue& epilogue);
void MatMulInt32Ref(const int32_t* a, const Shape& a_shape, const int32_t* b, const Shape& b_shape, bool trans_a,
                    bool trans_b, int32_t* out);

}  // namespace tessera
