// The AVX2 + FMA kernel set: a 6 x 16 register tile (12 ymm accumulators, 2 for B, 1 for A).
#include "cpu/isa.h"

#if TESSERA_X86
#include <immintrin.h>

#include <utility>

#include "cpu/gemm_kernels.h"
#include "cpu/gemm_loops.h"

namespace tessera {
namespace gemm {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

template <int kRows>
TESSERA_TARGET_AVX2 void Micro(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc,
                               int64_t cols, bool add_c) {
  __m256 acc[kRows][2];
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
    acc[i][0] = _mm256_setzero_ps();
    acc[i][1] = _mm256_setzero_ps();
  }
  for (int64_t p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 16
    for (int i = 0; i < kRows; i++) {
      const __m256 av = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
    }
    a += kMr;
    b += b_stride;
  }
  if (cols == kNr) {
#pragma GCC unroll 16
    for (int i = 0; i < kRows; i++) {
      float* crow = c + i * ldc;
      __m256 r0 = acc[i][0];
      __m256 r1 = acc[i][1];
      if (add_c) {
        r0 = _mm256_add_ps(_mm256_loadu_ps(crow), r0);
        r1 = _mm256_add_ps(_mm256_loadu_ps(crow + 8), r1);
      }
      _mm256_storeu_ps(crow, r0);
      _mm256_storeu_ps(crow + 8, r1);
    }
    return;
  }
  // Edge columns: through a buffer, so nothing past column `cols` is read or written.
  alignas(32) float tile[kRows][kNr];
  for (int i = 0; i < kRows; i++) {
    _mm256_store_ps(tile[i], acc[i][0]);
    _mm256_store_ps(tile[i] + 8, acc[i][1]);
    float* crow = c + i * ldc;
    for (int64_t j = 0; j < cols; j++) crow[j] = add_c ? crow[j] + tile[i][j] : tile[i][j];
  }
}

TESSERA_TARGET_AVX2 void Epilogue_(const Epilogue& e, int64_t n, float* c, int64_t ldc, int64_t row0, int64_t col0,
                                   int64_t rows, int64_t cols) {
  EpilogueBody(e, n, c, ldc, row0, col0, rows, cols);
}

TESSERA_TARGET_AVX2 void Small(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                               int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  SmallGemmBody(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

TESSERA_TARGET_AVX2 void Gemv_(bool rows_contiguous, int64_t count, int64_t k, const float* mat, int64_t ld,
                               const float* x, float* y, bool accumulate) {
  GemvBody<32>(rows_contiguous, count, k, mat, ld, x, y, accumulate);
}

template <int... R>
KernelSet Make(std::integer_sequence<int, R...>) {
  return KernelSet{"avx2 6x16", kMr, kNr, {&Micro<R + 1>...}, &Epilogue_, &Small, &Gemv_, Blocking{256, 120, 4096}};
}

}  // namespace

const KernelSet* Avx2Kernels() {
  static const KernelSet set = Make(std::make_integer_sequence<int, kMr>());
  return &set;
}

}  // namespace gemm
}  // namespace tessera

#else

#include "cpu/gemm_kernels.h"

namespace tessera {
namespace gemm {
const KernelSet* Avx2Kernels() { return nullptr; }
}  // namespace gemm
}  // namespace tessera

#endif
