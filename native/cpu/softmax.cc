// Softmax over the last axis, step for step as tfjs-backend-cpu composes it: m = max (NaN if
// any NaN), d = float32(x - m), e = float32(Math.exp(d)), total = float32(sum of e in
// double), y = float32(e / total).
//
// exp is evaluated in double by a branch-free polynomial (AVX2/AVX-512 lanes) accurate to
// a few double ulps; rounded to float32 that gives the same value as Math.exp rounded to
// float32 except when the exact result lies within ~1e-15 relative of a float32 rounding
// boundary (about one value in 10^7, then off by one float32 ulp). The sum of e is
// accumulated in double lanes instead of one chain, which only moves it by double rounding.
// So outputs match tfjs's to within 1 float32 ulp, and almost always exactly.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif
#include "cpu/isa.h"
#include "cpu/reduce.h"
#include "cpu/reduce_internal.h"

namespace tessera {
namespace {

constexpr int64_t kParallelGrain = 1 << 14;

// e^x in double for any float32 x (NaN gives NaN). Below -110 the float32 result is 0 and
// above 89 it is +Inf, so clamping there keeps 2^k a normal double.
TESSERA_INLINE double ExpDouble(double x) {
  constexpr double kLog2e = 1.4426950408889634074;
  // ln 2 split so that k * kLn2Hi is exact for |k| < 2^20 (Cody and Waite).
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  // Adding 1.5 * 2^52 rounds to an integer held in the low mantissa bits.
  constexpr double kShifter = 6755399441055744.0;
  constexpr int64_t kShifterBits = 0x4338000000000000;
  x = x < -110.0 ? -110.0 : x;
  x = x > 89.0 ? 89.0 : x;
  const double t = x * kLog2e + kShifter;
  const double k = t - kShifter;
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  // Taylor series of e^r to degree 12: for |r| <= ln2 / 2 the remainder is below 2e-16.
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const int64_t scale_bits = (bits - kShifterBits + 1023) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return p * scale;
}

// The row's maximum, NaN if it holds a NaN (the sign of a zero maximum does not matter here:
// x - 0 and x - (-0) are equal for every x but -0, whose exp is 1 either way).
TESSERA_INLINE float RowMax(const float* x, int64_t n) {
  constexpr int L = 16;
  float best = x[0];
  bool nan = x[0] != x[0];
  int64_t i = 0;
  if (n >= 2 * L) {
    float m[L], bad[L];
    for (int l = 0; l < L; l++) {
      m[l] = x[l];
      bad[l] = 0;
    }
    for (i = L; i + L <= n; i += L) {
      for (int l = 0; l < L; l++) {
        const float v = x[i + l];
        m[l] = v > m[l] ? v : m[l];
        bad[l] = v != v ? v : bad[l];
      }
    }
    for (int l = 0; l < L; l++) {
      best = m[l] > best ? m[l] : best;
      nan = nan || m[l] != m[l] || bad[l] != bad[l];
    }
  }
  for (; i < n; i++) {
    best = x[i] > best ? x[i] : best;
    nan = nan || x[i] != x[i];
  }
  return nan ? NAN : best;
}

TESSERA_INLINE void SoftmaxRowsBody(const float* logits, int64_t cols, float* out, int64_t rb, int64_t re) {
  constexpr int L = 8;
  for (int64_t row = rb; row < re; row++) {
    const float* x = logits + row * cols;
    float* y = out + row * cols;
    const float m = RowMax(x, cols);
    double lanes[L] = {};
    int64_t i = 0;
    for (; i + L <= cols; i += L) {
      for (int l = 0; l < L; l++) {
        const float e = static_cast<float>(ExpDouble(static_cast<float>(x[i + l] - m)));
        y[i + l] = e;
        lanes[l] += e;
      }
    }
    double sum = 0;
    for (int l = 0; l < L; l++) sum += lanes[l];
    for (; i < cols; i++) {
      const float e = static_cast<float>(ExpDouble(static_cast<float>(x[i] - m)));
      y[i] = e;
      sum += e;
    }
    const float total = static_cast<float>(sum);
    for (i = 0; i < cols; i++) y[i] = y[i] / total;
  }
}

void SoftmaxRowsGeneric(const float* x, int64_t cols, float* y, int64_t rb, int64_t re) {
  SoftmaxRowsBody(x, cols, y, rb, re);
}

#if TESSERA_X86
// The same steps with ExpDouble written in intrinsics (the compiler does not vectorize its
// bit manipulation): W float32 lanes widened to double, exp, rounded back.
TESSERA_TARGET_AVX2 inline __m256d Exp4(__m256d x) {
  // max/min with the constant first return x itself when x is NaN.
  x = _mm256_max_pd(_mm256_set1_pd(-110.0), x);
  x = _mm256_min_pd(_mm256_set1_pd(89.0), x);
  const __m256d shifter = _mm256_set1_pd(6755399441055744.0);
  const __m256d t = _mm256_fmadd_pd(x, _mm256_set1_pd(1.4426950408889634074), shifter);
  const __m256d k = _mm256_sub_pd(t, shifter);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10), r);
  __m256d p = _mm256_set1_pd(1.0 / 479001600.0);
  for (double c : {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
                   1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0}) {
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(c));
  }
  const __m256i bits = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(0x4338000000000000 - 1023));
  return _mm256_mul_pd(p, _mm256_castsi256_pd(_mm256_slli_epi64(bits, 52)));
}

// GCC 12 warns inside its own AVX-512 headers (the self-initialized "undefined" vectors its
// conversion intrinsics start from): a false positive, silenced for these functions only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
TESSERA_TARGET_AVX512 inline __m512d Exp8(__m512d x) {
  x = _mm512_max_pd(_mm512_set1_pd(-110.0), x);
  x = _mm512_min_pd(_mm512_set1_pd(89.0), x);
  const __m512d shifter = _mm512_set1_pd(6755399441055744.0);
  const __m512d t = _mm512_fmadd_pd(x, _mm512_set1_pd(1.4426950408889634074), shifter);
  const __m512d k = _mm512_sub_pd(t, shifter);
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(6.93147180369123816490e-01), x);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(1.90821492927058770002e-10), r);
  __m512d p = _mm512_set1_pd(1.0 / 479001600.0);
  for (double c : {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
                   1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0}) {
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c));
  }
  const __m512i bits = _mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(0x4338000000000000 - 1023));
  return _mm512_mul_pd(p, _mm512_castsi512_pd(_mm512_slli_epi64(bits, 52)));
}

TESSERA_TARGET_AVX2 void SoftmaxRowsAvx2(const float* logits, int64_t cols, float* out, int64_t rb, int64_t re) {
  for (int64_t row = rb; row < re; row++) {
    const float* x = logits + row * cols;
    float* y = out + row * cols;
    const float m = RowMax(x, cols);
    const __m128 mv = _mm_set1_ps(m);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= cols; i += 8) {
      const __m128 e0 = _mm256_cvtpd_ps(Exp4(_mm256_cvtps_pd(_mm_sub_ps(_mm_loadu_ps(x + i), mv))));
      const __m128 e1 = _mm256_cvtpd_ps(Exp4(_mm256_cvtps_pd(_mm_sub_ps(_mm_loadu_ps(x + i + 4), mv))));
      _mm_storeu_ps(y + i, e0);
      _mm_storeu_ps(y + i + 4, e1);
      acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(e0));
      acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(e1));
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
    double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < cols; i++) {
      const float e = static_cast<float>(ExpDouble(static_cast<float>(x[i] - m)));
      y[i] = e;
      sum += e;
    }
    const float total = static_cast<float>(sum);
    for (i = 0; i < cols; i++) y[i] = y[i] / total;
  }
}

TESSERA_TARGET_AVX512 void SoftmaxRowsAvx512(const float* logits, int64_t cols, float* out, int64_t rb, int64_t re) {
  for (int64_t row = rb; row < re; row++) {
    const float* x = logits + row * cols;
    float* y = out + row * cols;
    const float m = RowMax(x, cols);
    const __m256 mv = _mm256_set1_ps(m);
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= cols; i += 16) {
      const __m256 e0 = _mm512_cvtpd_ps(Exp8(_mm512_cvtps_pd(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv))));
      const __m256 e1 = _mm512_cvtpd_ps(Exp8(_mm512_cvtps_pd(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mv))));
      _mm256_storeu_ps(y + i, e0);
      _mm256_storeu_ps(y + i + 8, e1);
      acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(e0));
      acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(e1));
    }
    double sum = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
    for (; i < cols; i++) {
      const float e = static_cast<float>(ExpDouble(static_cast<float>(x[i] - m)));
      y[i] = e;
      sum += e;
    }
    const float total = static_cast<float>(sum);
    for (i = 0; i < cols; i++) y[i] = y[i] / total;
  }
}
#pragma GCC diagnostic pop
#endif

using SoftmaxRowsFn = void (*)(const float*, int64_t, float*, int64_t, int64_t);

SoftmaxRowsFn PickSoftmaxRows() {
#if TESSERA_X86
  switch (ActiveIsa()) {
    case Isa::kAvx512: return SoftmaxRowsAvx512;
    case Isa::kAvx2: return SoftmaxRowsAvx2;
    default: break;
  }
#endif
  return SoftmaxRowsGeneric;
}

}  // namespace

void Softmax(const float* logits, int64_t rows, int64_t cols, float* out) {
  if (rows == 0 || cols == 0) return;
  const SoftmaxRowsFn fn = PickSoftmaxRows();
  ParallelFor(rows, std::max<int64_t>(1, kParallelGrain / cols),
              [&](int64_t b, int64_t e) { fn(logits, cols, out, b, e); });
}

void SoftmaxRef(const float* logits, int64_t rows, int64_t cols, float* out) {
  if (cols == 0) return;
  for (int64_t row = 0; row < rows; row++) {
    const float* x = logits + row * cols;
    float* y = out + row * cols;
    double m = x[0];
    for (int64_t i = 0; i < cols; i++) {
      if (std::isnan(x[i]) || x[i] > m) m = x[i];
    }
    const float mf = static_cast<float>(m);
    double sum = 0;
    for (int64_t i = 0; i < cols; i++) {
      const float d = static_cast<float>(static_cast<double>(x[i]) - mf);
      y[i] = static_cast<float>(std::exp(static_cast<double>(d)));
      sum += y[i];
    }
    const float total = static_cast<float>(sum);
    for (int64_t i = 0; i < cols; i++) y[i] = static_cast<float>(static_cast<double>(y[i]) / total);
  }
}

}  // namespace tessera
