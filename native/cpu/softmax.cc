// Softmax over the last axis, step for step as tfjs-backend-cpu composes it: m = max (NaN if
// any NaN), d = float32(x - m), e = float32(Math.exp(d)), total = float32(sum of e in
// double), y = float32(e / total).
//
// exp is evaluated in double by a branch-free polynomial (so that it vectorizes) accurate to
// a few double ulps; rounded to float32 that gives the same value as Math.exp rounded to
// float32 except when the exact result lies within ~1e-15 relative of a float32 rounding
// boundary (about one value in 10^7, then off by one float32 ulp). The sum of e is
// accumulated in double lanes instead of one chain, which only moves it by double rounding.
// So outputs match tfjs's to within 1 float32 ulp, and almost always exactly.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"
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
TESSERA_TARGET_AVX2 void SoftmaxRowsAvx2(const float* x, int64_t cols, float* y, int64_t rb, int64_t re) {
  SoftmaxRowsBody(x, cols, y, rb, re);
}
TESSERA_TARGET_AVX512 void SoftmaxRowsAvx512(const float* x, int64_t cols, float* y, int64_t rb, int64_t re) {
  SoftmaxRowsBody(x, cols, y, rb, re);
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
