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
  // Unrolled, so that acc is indexed by constants only and never leaves registers in the loop.
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
    _mm256_store_ps(tile[i], acc[i][0]);
    _mm256_store_ps(tile[i] + 8, acc[i][1]);
    float* crow = c + i * ldc;
    for (int64_t j = 0; j < cols; j++) crow[j] = add_c ? crow[j] + tile[i][j] : tile[i][j];
  }
}

// 2^e for integral e in [-1022, 1023]: e + 1.5 * 2^52 holds e as an integer in its low bits,
// and (e + 1023) << 52 is the double 2^e.
TESSERA_TARGET_AVX2 inline __m256d Pow2(__m256d e) {
  const __m256d magic = _mm256_set1_pd(6755399441055744.0);
  const __m256i bits = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(e, magic)), _mm256_castpd_si256(magic));
  return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(bits, _mm256_set1_epi64x(1023)), 52));
}

// exp in double, 4 lanes: x = k ln2 + r, |r| <= ln2/2, exp(r) by its Taylor series, times
// 2^k built in the exponent bits, in two halves so that each is a normal double even where
// the result underflows or overflows (then the second product rounds it correctly).
TESSERA_TARGET_AVX2 inline __m256d ExpPd(__m256d x) {
  // min/max return their second operand for a NaN: x goes second to carry it through.
  x = _mm256_max_pd(_mm256_set1_pd(kExpMin), _mm256_min_pd(_mm256_set1_pd(kExpMax), x));
  const __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(kLn2Hi), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(kLn2Lo), r);
  __m256d p = _mm256_set1_pd(kExpTaylor[13]);
  for (int i = 12; i >= 0; i--) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kExpTaylor[i]));
  const __m256d k1 = _mm256_floor_pd(_mm256_mul_pd(k, _mm256_set1_pd(0.5)));
  const __m256d k2 = _mm256_sub_pd(k, k1);
  return _mm256_mul_pd(_mm256_mul_pd(p, Pow2(k1)), Pow2(k2));
}

TESSERA_TARGET_AVX2 inline __m256d ExpActivationPd(Activation act, __m256d v) {
  const __m256d one = _mm256_set1_pd(1.0);
  if (act == Activation::kElu) {
    const __m256d em1 = _mm256_sub_pd(ExpPd(v), one);
    return _mm256_blendv_pd(em1, v, _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_GE_OQ));
  }
  return _mm256_div_pd(one, _mm256_add_pd(one, ExpPd(_mm256_sub_pd(_mm256_setzero_pd(), v))));
}

struct Avx2ExpRows {
  TESSERA_TARGET_AVX2 static void Apply(Activation act, float* row, int64_t cols) {
    int64_t j = 0;
    for (; j + 4 <= cols; j += 4) {
      _mm_storeu_ps(row + j, _mm256_cvtpd_ps(ExpActivationPd(act, _mm256_cvtps_pd(_mm_loadu_ps(row + j)))));
    }
    if (j < cols) {
      alignas(16) float tail[4] = {};
      for (int64_t t = j; t < cols; t++) tail[t - j] = row[t];
      _mm_store_ps(tail, _mm256_cvtpd_ps(ExpActivationPd(act, _mm256_cvtps_pd(_mm_load_ps(tail)))));
      for (int64_t t = j; t < cols; t++) row[t] = tail[t - j];
    }
  }
};

TESSERA_TARGET_AVX2 void Epilogue_(const Epilogue& e, int64_t n, float* c, int64_t ldc, int64_t row0, int64_t col0,
                                   int64_t rows, int64_t cols) {
  EpilogueBody<Avx2ExpRows>(e, n, c, ldc, row0, col0, rows, cols);
}

TESSERA_TARGET_AVX2 void Small(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                               int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  SmallGemmBody(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

TESSERA_TARGET_AVX2 void Gemv_(bool rows_contiguous, int64_t count, int64_t k, const float* mat, int64_t ld,
                               const float* x, float* y, bool accumulate) {
  GemvBody<32>(rows_contiguous, count, k, mat, ld, x, y, accumulate);
}

// Rows j0..j0+7, depth p0..p0+7 of the source into 8 runs of 8 in the panel (an 8x8 transpose).
TESSERA_TARGET_AVX2 inline void Transpose8x8(const float* src, int64_t ld, float* dst, int width) {
  __m256 r[8];
  for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(src + j * ld);
  __m256 t[8];
  for (int j = 0; j < 8; j += 2) {
    t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
    t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
  }
  __m256 u[8];
  for (int h = 0; h < 8; h += 4) {
    u[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
    u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xEE);
    u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
    u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xEE);
  }
  for (int q = 0; q < 4; q++) {
    _mm256_storeu_ps(dst + q * width, _mm256_permute2f128_ps(u[q], u[q + 4], 0x20));
    _mm256_storeu_ps(dst + (q + 4) * width, _mm256_permute2f128_ps(u[q], u[q + 4], 0x31));
  }
}

// Four rows, depth p0..p0+7: 8 runs of 4.
TESSERA_TARGET_AVX2 inline void Transpose4x8(const float* src, int64_t ld, float* dst, int width) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ld);
  const __m256 r2 = _mm256_loadu_ps(src + 2 * ld), r3 = _mm256_loadu_ps(src + 3 * ld);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                       _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
  for (int q = 0; q < 4; q++) {
    _mm_storeu_ps(dst + q * width, _mm256_castps256_ps128(u[q]));
    _mm_storeu_ps(dst + (q + 4) * width, _mm256_extractf128_ps(u[q], 1));
  }
}

template <int... R>
KernelSet Make(std::integer_sequence<int, R...>) {
  return KernelSet{"avx2 6x16", kMr,         kNr, {&Micro<R + 1>...}, &Epilogue_, &Small, &Gemv_, &PackRowsAvx2,
                   Blocking{256, 120, 4096}};
}

}  // namespace

// Blocks of 8 (then 4) rows by 8 deep go through register transposes; the rest, the zero
// padding and the last kc % 8 steps, through the scalar loops.
TESSERA_TARGET_AVX2 void PackRowsAvx2(const float* src, int64_t ld, int64_t rows, int64_t kc, int width, float* dst) {
  const int64_t kc8 = kc / 8 * 8;
  int64_t j = 0;
  for (; j + 8 <= rows; j += 8) {
    for (int64_t p = 0; p < kc8; p += 8) Transpose8x8(src + j * ld + p, ld, dst + p * width + j, width);
  }
  for (; j + 4 <= rows; j += 4) {
    for (int64_t p = 0; p < kc8; p += 8) Transpose4x8(src + j * ld + p, ld, dst + p * width + j, width);
  }
  for (; j < rows; j++) {
    for (int64_t p = 0; p < kc8; p++) dst[p * width + j] = src[j * ld + p];
  }
  for (int64_t jj = 0; jj < rows; jj++) {
    for (int64_t p = kc8; p < kc; p++) dst[p * width + jj] = src[jj * ld + p];
  }
  for (int64_t jj = rows; jj < width; jj++) {
    for (int64_t p = 0; p < kc; p++) dst[p * width + jj] = 0.0f;
  }
}

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
void PackRowsAvx2(const float*, int64_t, int64_t, int64_t, int, float*) {}
}  // namespace gemm
}  // namespace tessera

#endif
