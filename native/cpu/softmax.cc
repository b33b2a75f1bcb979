// Softmax over the last axis, step for step as tfjs-backend-cpu composes it: m = max (NaN if
// any NaN), d = float32(x - m), e = float32(Math.exp(d)), total = float32(sum of e in
// double), y = float32(e / total).
//
// exp is evaluated in double, branch-free: the scalar path by a series accurate to a few
// double ulps, the vector paths by a table and a shorter series accurate to about 2^-42 (see
// Exp8). Rounded to float32 either gives Math.exp's float32 except when e^d lies that close
// to a point halfway between two floats: then one float32 ulp off, for about one input in
// 10^7 to 10^8. The sum of e is accumulated in double lanes instead of one chain, which only
// moves it by double rounding; the division is exact. So outputs match tfjs's to within 1
// float32 ulp, and almost always exactly.
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
// The vector paths: with n = round(16 d / ln2) = 16 k + j, e^d = 2^k * 2^(j/16) * e^r where
// r = d - n ln2/16 and |r| <= ln2/32, and e^r - 1 by its Taylor series to r^5 (truncation
// below 1.5e-13 relative, 2^-42.6). Exhaustively over the 1.12e9 float32 inputs in [-110, 0],
// rounded to float32 this differs from float32(glibc exp) in 30 cases (the AVX2 form: 10),
// by one ulp each. Against a plain series over |r| <= ln2/2 that is 7 fewer dependent
// multiply-adds per lane, and the AVX-512 table lookup is one two-register permute.

// 2^(j/16) for j = 0..15, correctly rounded.
constexpr double kExp2Sixteenths[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0,
};

// The bits of 2^(j/16) less j << 48. Exp8 adds the low 16 bits of n shifted to the top, which
// are j << 48 plus k << 52: j cancels, and k lands in the exponent field, scaling by 2^k.
struct Exp2Table {
  alignas(64) uint64_t bits[16];
};
constexpr Exp2Table MakeExp2Table() {
  Exp2Table t{};
  for (uint64_t j = 0; j < 16; j++) t.bits[j] = __builtin_bit_cast(uint64_t, kExp2Sixteenths[j]) - (j << 48);
  return t;
}
constexpr Exp2Table kExp2Table = MakeExp2Table();

// The AVX2 path's smaller table, 2^(j/4) for j = 0..3 (four entries fit one permute), less
// j << 50 in the same way.
struct Exp2QuarterTable {
  alignas(32) uint64_t bits[4];
};
constexpr Exp2QuarterTable MakeExp2QuarterTable() {
  Exp2QuarterTable t{};
  for (uint64_t j = 0; j < 4; j++) t.bits[j] = __builtin_bit_cast(uint64_t, kExp2Sixteenths[4 * j]) - (j << 50);
  return t;
}
constexpr Exp2QuarterTable kExp2QuarterTable = MakeExp2QuarterTable();

// GCC 12 warns inside its own AVX-512 headers (the self-initialized "undefined" vectors its
// conversion intrinsics start from): a false positive, silenced for these functions only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// e^x for x in [-110, 0] or NaN (the caller clamps).
TESSERA_TARGET_AVX512 inline __m512d Exp8(__m512d x, __m512d table_lo, __m512d table_hi) {
  // Adding 1.5 * 2^52 rounds to an integer held in the low mantissa bits.
  const __m512d shifter = _mm512_set1_pd(6755399441055744.0);
  const __m512d t = _mm512_fmadd_pd(x, _mm512_set1_pd(16 / 0.6931471805599453094), shifter);
  const __m512d n = _mm512_sub_pd(t, shifter);
  // One fused step: n * ln2/16 is exact inside the multiply-add, so r errs only by n times
  // the rounding of ln2/16: below 2^-46 for |n| <= 2540 (x >= -110).
  const __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0.6931471805599453094 / 16), x);
  // The low 16 bits of t hold n modulo 2^16: j in the low 4 bits, which the permute reads,
  // and k modulo 2^12 above them.
  const __m512i tb = _mm512_castpd_si512(t);
  const __m512d entry = _mm512_permutex2var_pd(table_lo, tb, table_hi);
  const __m512d scale =
      _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(entry), _mm512_slli_epi64(tb, 48)));
  __m512d p = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 120), r, _mm512_set1_pd(1.0 / 24));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 6));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(0.5));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0));
  p = _mm512_mul_pd(p, r);
  return _mm512_fmadd_pd(scale, p, scale);
}

// float32(e^float32(x - m)) for the 16 floats of x, as float32.
TESSERA_TARGET_AVX512 inline __m512 ExpShifted16(__m512 x, __m512 m, __m512d table_lo, __m512d table_hi) {
  // Below -110 the float32 result is 0: clamping keeps 2^k a normal double. max with the
  // constant first returns the difference itself when it is NaN.
  const __m512 d = _mm512_max_ps(_mm512_set1_ps(-110.0f), _mm512_sub_ps(x, m));
  const __m256 lo = _mm512_cvtpd_ps(Exp8(_mm512_cvtps_pd(_mm512_castps512_ps256(d)), table_lo, table_hi));
  const __m256 hi = _mm512_cvtpd_ps(Exp8(_mm512_cvtps_pd(_mm512_extractf32x8_ps(d, 1)), table_lo, table_hi));
  return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

TESSERA_TARGET_AVX512 inline __m512d WidenSum(__m512 e) {
  return _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(e)), _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1)));
}

// RowMax with explicit vectors: GCC leaves the generic form's NaN tracking scalar, which
// made finding the maximum cost as much as the exps.
TESSERA_TARGET_AVX512 inline float RowMax16(const float* x, int64_t n) {
  const __m512 lowest = _mm512_set1_ps(-INFINITY);
  __m512 m0 = lowest, m1 = lowest, m2 = lowest, m3 = lowest;
  __mmask16 nan = 0;
  int64_t i = 0;
  // max returns its second operand when either is NaN, so NaNs stay out of the maxima and
  // the unordered compares catch them.
  for (; i + 64 <= n; i += 64) {
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    const __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
    m0 = _mm512_max_ps(v0, m0);
    m1 = _mm512_max_ps(v1, m1);
    m2 = _mm512_max_ps(v2, m2);
    m3 = _mm512_max_ps(v3, m3);
    nan |= _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q) |
           _mm512_cmp_ps_mask(v2, v2, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v3, v3, _CMP_UNORD_Q);
  }
  for (; i < n; i += 16) {
    const __mmask16 live = static_cast<__mmask16>((1u << std::min<int64_t>(16, n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
    m0 = _mm512_mask_max_ps(m0, live, v, m0);
    nan |= _mm512_mask_cmp_ps_mask(live, v, v, _CMP_UNORD_Q);
  }
  if (nan) return NAN;
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

// y[i] = float32(y[i] / total), exactly as the division, for y[i] >= 0 or NaN. Dividing took
// a sixth of the time of a 1024 x 1024 softmax on one core (0.067 of 0.41 ms); where it is
// safe the quotient comes from the reciprocal and one correction instead (Markstein, 0.04 ms): with rcp = float32(1 / total),
// q = float32(y * rcp) is within an ulp of y / total, the remainder y - q * total is exact in
// a fused multiply-add, and float32(q + remainder * rcp) is the correctly rounded quotient as
// long as nothing underflows (1.3e9 random pairs agreed with the division). total lies in
// [1, cols] (the row maximum contributes e^0); y below 2^-60, whose quotient and remainder
// come near the subnormal range, takes the division.
TESSERA_TARGET_AVX512 inline void DivideRow16(float* y, int64_t n, float total) {
  const __m512 t = _mm512_set1_ps(total);
  int64_t i = 0;
  if (total >= 1.0f && total <= 0x1p24f) {
    const __m512 rcp = _mm512_div_ps(_mm512_set1_ps(1.0f), t);
    const __m512 tiny = _mm512_set1_ps(0x1p-60f);
    for (; i + 16 <= n; i += 16) {
      const __m512 v = _mm512_loadu_ps(y + i);
      const __m512 q = _mm512_mul_ps(v, rcp);
      __m512 exact = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, t, v), rcp, q);
      const __mmask16 small = _mm512_cmp_ps_mask(v, tiny, _CMP_LT_OQ);
      if (small) exact = _mm512_mask_div_ps(exact, small, v, t);
      _mm512_storeu_ps(y + i, exact);
    }
  }
  for (; i < n; i += 16) {
    const __mmask16 live = static_cast<__mmask16>((1u << std::min<int64_t>(16, n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, live, _mm512_div_ps(_mm512_maskz_loadu_ps(live, y + i), t));
  }
}

TESSERA_TARGET_AVX512 void SoftmaxRowsAvx512(const float* logits, int64_t cols, float* out, int64_t rb, int64_t re) {
  const __m512d table_lo = _mm512_castsi512_pd(_mm512_load_si512(kExp2Table.bits));
  const __m512d table_hi = _mm512_castsi512_pd(_mm512_load_si512(kExp2Table.bits + 8));
  for (int64_t row = rb; row < re; row++) {
    const float* x = logits + row * cols;
    float* y = out + row * cols;
    const __m512 m = _mm512_set1_ps(RowMax16(x, cols));
    // Eight exp chains in flight per step: each is a long sequence of dependent operations.
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 64 <= cols; i += 64) {
      const __m512 e0 = ExpShifted16(_mm512_loadu_ps(x + i), m, table_lo, table_hi);
      const __m512 e1 = ExpShifted16(_mm512_loadu_ps(x + i + 16), m, table_lo, table_hi);
      const __m512 e2 = ExpShifted16(_mm512_loadu_ps(x + i + 32), m, table_lo, table_hi);
      const __m512 e3 = ExpShifted16(_mm512_loadu_ps(x + i + 48), m, table_lo, table_hi);
      _mm512_storeu_ps(y + i, e0);
      _mm512_storeu_ps(y + i + 16, e1);
      _mm512_storeu_ps(y + i + 32, e2);
      _mm512_storeu_ps(y + i + 48, e3);
      acc0 = _mm512_add_pd(acc0, _mm512_add_pd(WidenSum(e0), WidenSum(e1)));
      acc1 = _mm512_add_pd(acc1, _mm512_add_pd(WidenSum(e2), WidenSum(e3)));
    }
    for (; i < cols; i += 16) {
      const __mmask16 live = static_cast<__mmask16>((1u << std::min<int64_t>(16, cols - i)) - 1);
      const __m512 e = _mm512_maskz_mov_ps(live, ExpShifted16(_mm512_maskz_loadu_ps(live, x + i), m, table_lo, table_hi));
      _mm512_mask_storeu_ps(y + i, live, e);
      acc0 = _mm512_add_pd(acc0, WidenSum(e));
    }
    DivideRow16(y, cols, static_cast<float>(_mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1))));
  }
}
#pragma GCC diagnostic pop

// The AVX2 form: n = round(4 d / ln2), four table entries (one cross-lane permute of 32-bit
// halves), so |r| <= ln2/8 and the series runs to r^7 (truncation below 8e-14 relative).
TESSERA_TARGET_AVX2 inline __m256d Exp4(__m256d x, __m256 table) {
  const __m256d shifter = _mm256_set1_pd(6755399441055744.0);
  const __m256d t = _mm256_fmadd_pd(x, _mm256_set1_pd(4 / 0.6931471805599453094), shifter);
  const __m256d n = _mm256_sub_pd(t, shifter);
  const __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0.6931471805599453094 / 4), x);
  // Entry j is the 32-bit halves 2j and 2j + 1 of the table.
  const __m256i tb = _mm256_castpd_si256(t);
  const __m256i j2 = _mm256_slli_epi64(_mm256_and_si256(tb, _mm256_set1_epi64x(3)), 1);
  const __m256i halves = _mm256_or_si256(j2, _mm256_slli_epi64(_mm256_add_epi64(j2, _mm256_set1_epi64x(1)), 32));
  const __m256d entry = _mm256_castps_pd(_mm256_permutevar8x32_ps(table, halves));
  const __m256d scale = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(entry), _mm256_slli_epi64(tb, 50)));
  __m256d p = _mm256_fmadd_pd(_mm256_set1_pd(1.0 / 5040), r, _mm256_set1_pd(1.0 / 720));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
  p = _mm256_mul_pd(p, r);
  return _mm256_fmadd_pd(scale, p, scale);
}

TESSERA_TARGET_AVX2 inline __m256 ExpShifted8(__m256 x, __m256 m, __m256 table) {
  const __m256 d = _mm256_max_ps(_mm256_set1_ps(-110.0f), _mm256_sub_ps(x, m));
  const __m128 lo = _mm256_cvtpd_ps(Exp4(_mm256_cvtps_pd(_mm256_castps256_ps128(d)), table));
  const __m128 hi = _mm256_cvtpd_ps(Exp4(_mm256_cvtps_pd(_mm256_extractf128_ps(d, 1)), table));
  return _mm256_set_m128(hi, lo);
}

TESSERA_TARGET_AVX2 inline __m256d WidenSum(__m256 e) {
  return _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(e)), _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
}

TESSERA_TARGET_AVX2 inline float RowMax8(const float* x, int64_t n) {
  const __m256 lowest = _mm256_set1_ps(-INFINITY);
  __m256 m0 = lowest, m1 = lowest, m2 = lowest, m3 = lowest;
  __m256 nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    const __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
    m0 = _mm256_max_ps(v0, m0);
    m1 = _mm256_max_ps(v1, m1);
    m2 = _mm256_max_ps(v2, m2);
    m3 = _mm256_max_ps(v3, m3);
    nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(v0, v0, _CMP_UNORD_Q), _mm256_cmp_ps(v1, v1, _CMP_UNORD_Q)),
                                         _mm256_or_ps(_mm256_cmp_ps(v2, v2, _CMP_UNORD_Q), _mm256_cmp_ps(v3, v3, _CMP_UNORD_Q))));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
  bool any_nan = _mm256_movemask_ps(nan) != 0;
  float best = lanes[0];
  for (int l = 1; l < 8; l++) best = lanes[l] > best ? lanes[l] : best;
  for (; i < n; i++) {
    best = x[i] > best ? x[i] : best;
    any_nan = any_nan || x[i] != x[i];
  }
  return any_nan ? NAN : best;
}

TESSERA_TARGET_AVX2 void SoftmaxRowsAvx2(const float* logits, int64_t cols, float* out, int64_t rb, int64_t re) {
  const __m256 table = _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(kExp2QuarterTable.bits)));
  for (int64_t row = rb; row < re; row++) {
    const float* x = logits + row * cols;
    float* y = out + row * cols;
    const __m256 m = _mm256_set1_ps(RowMax8(x, cols));
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= cols; i += 16) {
      const __m256 e0 = ExpShifted8(_mm256_loadu_ps(x + i), m, table);
      const __m256 e1 = ExpShifted8(_mm256_loadu_ps(x + i + 8), m, table);
      _mm256_storeu_ps(y + i, e0);
      _mm256_storeu_ps(y + i + 8, e1);
      acc0 = _mm256_add_pd(acc0, WidenSum(e0));
      acc1 = _mm256_add_pd(acc1, WidenSum(e1));
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
    double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    if (i < cols) {
      alignas(32) float in_tail[8] = {};
      alignas(32) float out_tail[8];
      std::memcpy(in_tail, x + i, static_cast<size_t>(cols - i) * sizeof(float));
      _mm256_store_ps(out_tail, ExpShifted8(_mm256_load_ps(in_tail), m, table));
      for (int64_t l = 0; l < cols - i; l++) {
        y[i + l] = out_tail[l];
        sum += out_tail[l];
      }
    }
    const float total = static_cast<float>(sum);
    for (i = 0; i < cols; i++) y[i] = y[i] / total;
  }
}
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
