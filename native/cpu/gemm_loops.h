// Loop bodies written once in plain C++ and compiled per ISA: each kernel file wraps them in
// functions carrying its target attribute, and since they are forced inline the compiler
// vectorizes them for that ISA (GCC and Clang inline a default-target body into a wider one).
// Only for inclusion by the gemm_*.cc kernel files.
#pragma once
#include <algorithm>
#include <cstdint>

#include "cpu/gemm.h"

#define TESSERA_INLINE inline __attribute__((always_inline))

namespace tessera {
namespace gemm {

// elu and sigmoid over a row through libm's double exp, as tfjs's Math.exp: rounded once to
// float, these match it. The wide kernel sets replace it with a vectorized double exp.
struct ScalarExpRows {
  static void Apply(Activation act, float* row, int64_t cols) {
    for (int64_t j = 0; j < cols; j++) row[j] = ApplyActivation(act, row[j], 0.0, 0.0f);
  }
};

// Coefficients 1/n! of exp's Taylor series up to n = 13: on |r| <= ln2/2 the truncation error
// is below 5e-18, so the result is within about an ulp of the double exp.
constexpr double kExpTaylor[14] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                   1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600,
                                   1.0 / 6227020800.0};
// ln 2 split so that k * kLn2Hi is exact for every k the range reduction meets (fdlibm's split).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.44269504088896338700e+00;
// exp is +inf above and 0 below these for doubles; clamping keeps 2^k representable.
constexpr double kExpMax = 710.0;
constexpr double kExpMin = -746.0;

// The epilogue over a tile of C. Bias first, then the activation, each value rounded to float
// in between, as tfjs-backend-cpu's separate Add and activation kernels do.
template <class ExpRows = ScalarExpRows>
TESSERA_INLINE void EpilogueBody(const Epilogue& e, int64_t n, float* c, int64_t ldc, int64_t row0, int64_t col0,
                                 int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; i++) {
    float* __restrict row = c + i * ldc;
    if (e.bias != nullptr) {
      const float* __restrict bias = e.bias + (e.bias_per_element ? (row0 + i) * n : 0) + col0;
      for (int64_t j = 0; j < cols; j++) row[j] += bias[j];
    }
    switch (e.activation) {
      case Activation::kNone:
        break;
      case Activation::kRelu:
        for (int64_t j = 0; j < cols; j++) row[j] = row[j] <= 0 ? 0.0f : row[j];
        break;
      case Activation::kRelu6:
        for (int64_t j = 0; j < cols; j++) row[j] = row[j] <= 0 ? 0.0f : (row[j] > 6 ? 6.0f : row[j]);
        break;
      case Activation::kLeakyRelu: {
        // Two passes over a chunk, the double products first and then the select: a product
        // under a condition is not vectorized (its float conversion might trap).
        const double alpha = e.leaky_alpha;
        for (int64_t j0 = 0; j0 < cols; j0 += 64) {
          const int64_t w = std::min<int64_t>(64, cols - j0);
          float* __restrict chunk = row + j0;
          float scaled[64];
          for (int64_t j = 0; j < w; j++) scaled[j] = static_cast<float>(alpha * chunk[j]);
          for (int64_t j = 0; j < w; j++) chunk[j] = chunk[j] < 0 ? scaled[j] : chunk[j];
        }
        break;
      }
      case Activation::kPrelu: {
        const float* __restrict alpha = e.prelu_alpha + (e.prelu_per_element ? (row0 + i) * n : 0) + col0;
        for (int64_t j = 0; j < cols; j++) row[j] = row[j] < 0 ? alpha[j] * row[j] : row[j];
        break;
      }
      case Activation::kElu:
      case Activation::kSigmoid:
        ExpRows::Apply(e.activation, row, cols);
        break;
    }
  }
}

// Unpacked loops for small products: a row of C at a time, streaming rows of B (axpy form,
// vectorized over n) or, for a transposed B, dot products.
TESSERA_INLINE void SmallGemmBody(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                                  int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < m; i++) {
    float* __restrict crow = c + i * ldc;
    if (!trans_b) {
      if (!accumulate) {
        for (int64_t j = 0; j < n; j++) crow[j] = 0.0f;
      }
      for (int64_t p = 0; p < k; p++) {
        const float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const float* __restrict brow = b + p * ldb;
        for (int64_t j = 0; j < n; j++) crow[j] += av * brow[j];
      }
    } else {
      for (int64_t j = 0; j < n; j++) {
        const float* __restrict bcol = b + j * ldb;
        float sum = 0.0f;
        for (int64_t p = 0; p < k; p++) sum += (trans_a ? a[p * lda + i] : a[i * lda + p]) * bcol[p];
        crow[j] = accumulate ? crow[j] + sum : sum;
      }
    }
  }
}

// Dot products use kLanes independent partial sums: that vectorizes without reassociating
// any one sum, so no fast-math is needed.
template <int kLanes>
TESSERA_INLINE void GemvBody(bool rows_contiguous, int64_t count, int64_t k, const float* mat, int64_t ld,
                             const float* x, float* y, bool accumulate) {
  if (rows_contiguous) {
    for (int64_t i = 0; i < count; i++) {
      const float* __restrict row = mat + i * ld;
      float lanes[kLanes] = {};
      int64_t p = 0;
      for (; p + kLanes <= k; p += kLanes) {
        for (int l = 0; l < kLanes; l++) lanes[l] += row[p + l] * x[p + l];
      }
      float sum = 0.0f;
      for (; p < k; p++) sum += row[p] * x[p];
      for (int l = 0; l < kLanes; l++) sum += lanes[l];
      y[i] = accumulate ? y[i] + sum : sum;
    }
  } else {
    float* __restrict out = y;
    if (!accumulate) {
      for (int64_t i = 0; i < count; i++) out[i] = 0.0f;
    }
    // Four rows per pass over y: a quarter of the loads and stores of y per multiply-add.
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
      const float* __restrict r0 = mat + p * ld;
      const float* __restrict r1 = r0 + ld;
      const float* __restrict r2 = r1 + ld;
      const float* __restrict r3 = r2 + ld;
      for (int64_t i = 0; i < count; i++) out[i] += x0 * r0[i] + x1 * r1[i] + x2 * r2[i] + x3 * r3[i];
    }
    for (; p < k; p++) {
      const float xv = x[p];
      const float* __restrict row = mat + p * ld;
      for (int64_t i = 0; i < count; i++) out[i] += xv * row[i];
    }
  }
}

// Each source row is read contiguously; the strided writes stay inside one L1-sized panel.
TESSERA_INLINE void PackRowsBody(const float* src, int64_t ld, int64_t rows, int64_t kc, int width, float* dst) {
  for (int64_t j = 0; j < rows; j++) {
    const float* __restrict s = src + j * ld;
    for (int64_t p = 0; p < kc; p++) dst[p * width + j] = s[p];
  }
  for (int64_t j = rows; j < width; j++) {
    for (int64_t p = 0; p < kc; p++) dst[p * width + j] = 0.0f;
  }
}

// A register tile in plain C++: the compiler keeps acc in vector registers of whatever width
// the target has.
template <int kStride, int kRows, int kCols>
TESSERA_INLINE void PortableMicroBody(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c,
                                      int64_t ldc, int64_t cols, bool add_c) {
  float acc[kRows][kCols] = {};
  for (int64_t p = 0; p < kc; p++) {
    const float* __restrict bp = b + p * b_stride;
    const float* __restrict ap = a + p * kStride;
#pragma GCC unroll 16
    for (int i = 0; i < kRows; i++) {
      const float av = ap[i];
#pragma GCC unroll 32
      for (int j = 0; j < kCols; j++) acc[i][j] += av * bp[j];
    }
  }
  // acc is indexed by constants only (unrolled loops), so that it can stay in registers; the
  // edge columns go through a copy.
  if (cols == kCols) {
#pragma GCC unroll 16
    for (int i = 0; i < kRows; i++) {
      float* __restrict crow = c + i * ldc;
#pragma GCC unroll 32
      for (int j = 0; j < kCols; j++) crow[j] = add_c ? crow[j] + acc[i][j] : acc[i][j];
    }
    return;
  }
  float tile[kRows][kCols];
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
#pragma GCC unroll 32
    for (int j = 0; j < kCols; j++) tile[i][j] = acc[i][j];
  }
  for (int i = 0; i < kRows; i++) {
    float* __restrict crow = c + i * ldc;
    for (int64_t j = 0; j < cols; j++) crow[j] = add_c ? crow[j] + tile[i][j] : tile[i][j];
  }
}

}  // namespace gemm
}  // namespace tessera
