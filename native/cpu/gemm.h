// Single-precision GEMM, the engine under MatMul, the convolutions and their gradients.
//
//   C = op(A) * op(B) + (accumulate ? C : 0),   then the epilogue, per element of C.
//
// Row-major with leading dimensions: op(A) is m x k (A stored k x m when trans_a), op(B) is
// k x n (B stored n x k when trans_b). Transposed operands are read in place, never copied
// by the caller.
#pragma once
#include <cstdint>

#include "cpu/isa.h"

namespace tessera {

enum class Activation { kNone = 0, kRelu, kRelu6, kLeakyRelu, kPrelu, kElu, kSigmoid };

// Applied to each element of C after the product: bias (one value per column, or per
// element when bias_per_element), then the activation.
struct Epilogue {
  const float* bias = nullptr;       // length n (or m*n when bias_per_element)
  bool bias_per_element = false;
  Activation activation = Activation::kNone;
  // kLeakyRelu. A double, as tfjs's attribute is: alpha * x is formed in double and rounded
  // once to float, exactly as tfjs-backend-cpu's LeakyRelu stores it.
  double leaky_alpha = 0.2;
  const float* prelu_alpha = nullptr;  // kPrelu: length n (or m*n when prelu_per_element)
  bool prelu_per_element = false;
};

// Products of fewer multiply-adds than this run on one thread: below it a second thread costs
// more than it saves (measured on 2 cores: 192^3 still runs faster on one thread, 256^3 on two).
// Batched callers use it to decide between threading across the batch and inside each product.
constexpr double kSgemmParallelMacs = 224.0 * 224.0 * 224.0;

void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate = false,
           const Epilogue& epilogue = Epilogue());

// Sgemm on the kernels of one ISA, which must not exceed ActiveIsa() (throws otherwise). Lets
// tests and the kernel lab run the AVX2 and generic paths on a CPU that would pick AVX-512.
void SgemmIsa(Isa isa, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate = false,
              const Epilogue& epilogue = Epilogue());

// Scalar reference: the test oracle for Sgemm.
void SgemmRef(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate = false,
              const Epilogue& epilogue = Epilogue());

// The activation alone, as tfjs defines it (shared by every fused kernel's epilogue).
float ApplyActivation(Activation act, float x, double leaky_alpha, float prelu_alpha);

}  // namespace tessera
