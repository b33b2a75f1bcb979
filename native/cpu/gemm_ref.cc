#include <cmath>

#include "cpu/gemm.h"

namespace tessera {

float ApplyActivation(Activation act, float x, double leaky_alpha, float prelu_alpha) {
  switch (act) {
    case Activation::kNone: return x;
    // tfjs's Math.max(0, x): NaN passes through and -0 becomes +0.
    case Activation::kRelu: return x <= 0 ? 0.0f : x;
    case Activation::kRelu6: return x <= 0 ? 0.0f : (x > 6 ? 6.0f : x);
    case Activation::kLeakyRelu: return x < 0 ? static_cast<float>(leaky_alpha * x) : x;
    case Activation::kPrelu: return x < 0 ? prelu_alpha * x : x;
    case Activation::kElu: return x >= 0 ? x : static_cast<float>(std::exp(static_cast<double>(x)) - 1.0);
    case Activation::kSigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
  }
  return x;
}

void ApplyEpilogueRef(int64_t m, int64_t n, float* c, int64_t ldc, const Epilogue& e) {
  if (e.bias == nullptr && e.activation == Activation::kNone) return;
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      float v = c[i * ldc + j];
      if (e.bias) v += e.bias_per_element ? e.bias[i * n + j] : e.bias[j];
      float pa = e.prelu_alpha ? (e.prelu_per_element ? e.prelu_alpha[i * n + j] : e.prelu_alpha[j]) : 0.0f;
      c[i * ldc + j] = ApplyActivation(e.activation, v, e.leaky_alpha, pa);
    }
  }
}

void SgemmRef(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate, const Epilogue& epilogue) {
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      // Double accumulation keeps the oracle well away from the float kernels' rounding.
      double acc = accumulate ? c[i * ldc + j] : 0.0;
      for (int64_t p = 0; p < k; p++) {
        float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += static_cast<double>(av) * bv;
      }
      c[i * ldc + j] = static_cast<float>(acc);
    }
  }
  ApplyEpilogueRef(m, n, c, ldc, epilogue);
}

}  // namespace tessera
