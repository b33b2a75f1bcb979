#include "cpu/unary.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <unordered_map>

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/isa.h"
#include "cpu/js_numeric.h"

#if TESSERA_X86
#include <immintrin.h>
#endif

// Forces the per-element functors into the loops that call them, including the AVX2-targeted
// copies of those loops: a functor left out of line would be one baseline-ISA symbol shared
// by both copies.
#define TESSERA_INLINE inline __attribute__((always_inline))

namespace tessera {
namespace {

// Elements per chunk below which a thread costs more than it saves: binary.cc's grain for
// memory-bound ops; smaller ones where each element costs more (the vectorized e^x path,
// about 1 ns, and a libm call, 5 to 40 ns), so those split at proportionally smaller sizes.
constexpr int64_t kCheapGrain = 1 << 15;
constexpr int64_t kVectorMathGrain = 1 << 13;
constexpr int64_t kLibmGrain = 1 << 11;

// tfjs-core's constants (ops/erf_util.js, ops/selu_util.js), as JavaScript parses them.
constexpr double kErfP = 0.3275911;
constexpr double kErfA1 = 0.254829592;
constexpr double kErfA2 = -0.284496736;
constexpr double kErfA3 = 1.421413741;
constexpr double kErfA4 = -1.453152027;
constexpr double kErfA5 = 1.061405429;
constexpr double kSeluScaleAlpha = 1.7580993408473768599402175208123;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
// Softplus.js: Math.log(float32 epsilon) + 2.
const double kSoftplusThreshold = std::log(1.1920928955078125e-7) + 2.0;

// ---------------------------------------------------------------------------------------
// The JavaScript formulas, one per op, on doubles: tfjs-backend-cpu's kernels line by line.

// Math.exp as V8 computes it (fdlibm): for |x| < 2^-28 it returns 1 + x, which differs from
// a correctly rounded e^x when 1 + x is a tie. That matters where a kernel subtracts 1
// afterwards (Elu, Selu): the cancellation turns the last double bit into float bits.
inline double JsExp(double x) { return std::fabs(x) < 0x1p-28 ? 1.0 + x : std::exp(x); }

inline double JsSign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }  // Math.sign

inline double JsMax(double a, double b) {  // Math.max: NaN wins, +0 beats -0
  if (std::isnan(a) || std::isnan(b)) return NAN;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

inline double JsMin(double a, double b) {  // Math.min: NaN wins, -0 beats +0
  if (std::isnan(a) || std::isnan(b)) return NAN;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

inline double JsErf(double x) {
  double sign = JsSign(x);
  double v = std::fabs(x);
  double t = 1.0 / (1.0 + kErfP * v);
  return sign * (1.0 - (((((kErfA5 * t + kErfA4) * t) + kErfA3) * t + kErfA2) * t + kErfA1) * t * JsExp(-v * v));
}

inline double JsRound(double x) {  // Round.js: banker's rounding from Math.floor
  double base = std::floor(x);
  if (x - base < 0.5) return std::floor(x);
  if (x - base > 0.5) return std::ceil(x);
  return std::fmod(base, 2.0) == 0.0 ? base : base + 1.0;
}

inline double JsSoftplus(double x) {
  bool too_large = x > -kSoftplusThreshold;
  bool too_small = x < kSoftplusThreshold;
  double exp_x = JsExp(x);
  if (too_small) return exp_x;
  if (too_large) return x;
  return std::log(1.0 + exp_x);
}

template <UnaryOp Op>
struct Js;

#define TESSERA_JS_OP(OP, EXPR)                                                          \
  template <>                                                                            \
  struct Js<UnaryOp::OP> {                                                               \
    static TESSERA_INLINE double Apply(double x, const UnaryAttrs& a) { return EXPR; }   \
  };
// Abs.js and Square's kernel write into a Float32Array before the output's own array.
TESSERA_JS_OP(kAbs, static_cast<float>(std::fabs(x)))
TESSERA_JS_OP(kAcos, std::acos(x))
TESSERA_JS_OP(kAcosh, std::acosh(x))
TESSERA_JS_OP(kAsin, std::asin(x))
TESSERA_JS_OP(kAsinh, std::asinh(x))
TESSERA_JS_OP(kAtan, std::atan(x))
TESSERA_JS_OP(kAtanh, std::atanh(x))
TESSERA_JS_OP(kCeil, std::ceil(x))
TESSERA_JS_OP(kCos, std::cos(x))
TESSERA_JS_OP(kCosh, std::cosh(x))
TESSERA_JS_OP(kErf, JsErf(x))
TESSERA_JS_OP(kExp, JsExp(x))
TESSERA_JS_OP(kExpm1, std::expm1(x))
TESSERA_JS_OP(kFloor, std::floor(x))
TESSERA_JS_OP(kIsFinite, std::isfinite(x) ? 1.0 : 0.0)
TESSERA_JS_OP(kIsInf, std::fabs(x) == INFINITY ? 1.0 : 0.0)
TESSERA_JS_OP(kIsNan, std::isnan(x) ? 1.0 : 0.0)
TESSERA_JS_OP(kLog, std::log(x))
TESSERA_JS_OP(kLog1p, std::log1p(x))
// `xi ? 0 : 1`: 0, -0 and NaN are the falsy numbers.
TESSERA_JS_OP(kLogicalNot, (x == 0 || std::isnan(x)) ? 1.0 : 0.0)
TESSERA_JS_OP(kNeg, -1.0 * x)
TESSERA_JS_OP(kReciprocal, 1.0 / x)
TESSERA_JS_OP(kRound, JsRound(x))
TESSERA_JS_OP(kRsqrt, 1.0 / std::sqrt(x))
TESSERA_JS_OP(kSign, x < 0 ? -1.0 : x > 0 ? 1.0 : 0.0)
TESSERA_JS_OP(kSin, std::sin(x))
TESSERA_JS_OP(kSinh, std::sinh(x))
TESSERA_JS_OP(kSqrt, std::sqrt(x))
TESSERA_JS_OP(kSquare, static_cast<float>(x * x))
TESSERA_JS_OP(kTan, std::tan(x))
TESSERA_JS_OP(kTanh, std::tanh(x))
TESSERA_JS_OP(kStep, std::isnan(x) ? NAN : x > 0 ? 1.0 : a.alpha)
TESSERA_JS_OP(kClipByValue, x > a.clip_max ? a.clip_max : x < a.clip_min ? a.clip_min : x)
TESSERA_JS_OP(kRelu, JsMax(0, x))
TESSERA_JS_OP(kRelu6, JsMin(JsMax(0, x), 6))
TESSERA_JS_OP(kLeakyRelu, x < 0 ? a.alpha * x : x)
TESSERA_JS_OP(kElu, x >= 0 ? x : JsExp(x) - 1)
TESSERA_JS_OP(kSelu, x >= 0 ? kSeluScale * x : kSeluScaleAlpha * (JsExp(x) - 1))
TESSERA_JS_OP(kSigmoid, 1 / (1 + JsExp(-x)))
TESSERA_JS_OP(kSoftplus, JsSoftplus(x))
#undef TESSERA_JS_OP

// The element type of an op's output for input element type In.
template <UnaryOp Op, typename In>
struct OutOf {
  using type = std::conditional_t<
      Op == UnaryOp::kIsFinite || Op == UnaryOp::kIsInf || Op == UnaryOp::kIsNan || Op == UnaryOp::kLogicalNot,
      uint8_t, std::conditional_t<Op == UnaryOp::kExp || Op == UnaryOp::kLeakyRelu, float, In>>;
};

// Ops that need no libm call per element: their loops vectorize, and get an AVX2 copy.
constexpr bool IsCheap(UnaryOp op) {
  switch (op) {
    case UnaryOp::kAbs: case UnaryOp::kCeil: case UnaryOp::kFloor: case UnaryOp::kIsFinite:
    case UnaryOp::kIsInf: case UnaryOp::kIsNan: case UnaryOp::kLogicalNot: case UnaryOp::kNeg:
    case UnaryOp::kReciprocal: case UnaryOp::kRound: case UnaryOp::kRsqrt: case UnaryOp::kSign:
    case UnaryOp::kSqrt: case UnaryOp::kSquare: case UnaryOp::kStep: case UnaryOp::kClipByValue:
    case UnaryOp::kRelu: case UnaryOp::kRelu6: case UnaryOp::kLeakyRelu:
      return true;
    default:
      return false;
  }
}

// The float32 activations built on e^x, which have a vectorized AVX2 path.
constexpr bool IsExpFamily(UnaryOp op) {
  return op == UnaryOp::kExp || op == UnaryOp::kExpm1 || op == UnaryOp::kSigmoid || op == UnaryOp::kTanh ||
         op == UnaryOp::kElu || op == UnaryOp::kSelu;
}

// ---------------------------------------------------------------------------------------
// The optimized per-element functors. The default goes through the JavaScript formula; the
// specializations compute the same values in forms the compiler vectorizes. Float32 forms
// are used only where one float operation equals the double one rounded to float (a single
// +, -, *, /, sqrt of floats is: double rounding is innocuous at these precisions).

// c ? a : b as a bitwise blend of two values both computed. Under the default
// -ftrapping-math GCC neither if-converts a floating-point operation only one arm of a ?:
// needs nor keeps it out of the branch when written before the ?: (it sinks it back), so
// such loops stay scalar; a blend of bits uses both arms and vectorizes.
template <typename T>
TESSERA_INLINE T SelectIf(bool c, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  Bits ba, bb;
  std::memcpy(&ba, &a, sizeof(T));
  std::memcpy(&bb, &b, sizeof(T));
  const Bits mask = Bits{0} - static_cast<Bits>(c);
  const Bits bits = (ba & mask) | (bb & ~mask);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

template <UnaryOp Op, typename In>
struct Fast {
  using Out = typename OutOf<Op, In>::type;
  static TESSERA_INLINE Out Apply(In x, const UnaryAttrs& a) { return FromDouble<Out>(Js<Op>::Apply(static_cast<double>(x), a)); }
};

#define TESSERA_FAST_OP(OP, IN, OUT, EXPR)                                       \
  template <>                                                                    \
  struct Fast<UnaryOp::OP, IN> {                                                 \
    using Out = OUT;                                                             \
    static TESSERA_INLINE OUT Apply(IN x, const UnaryAttrs& a) { return EXPR; }  \
  };
TESSERA_FAST_OP(kAbs, float, float, std::fabs(x))
TESSERA_FAST_OP(kNeg, float, float, -x)
TESSERA_FAST_OP(kSquare, float, float, x * x)
TESSERA_FAST_OP(kCeil, float, float, std::ceil(x))
TESSERA_FAST_OP(kFloor, float, float, std::floor(x))
TESSERA_FAST_OP(kSign, float, float, x < 0 ? -1.0f : x > 0 ? 1.0f : 0.0f)
TESSERA_FAST_OP(kReciprocal, float, float, 1.0f / x)
TESSERA_FAST_OP(kSqrt, float, float, std::sqrt(x))
// Two roundings in JS (sqrt, then the division), so this one stays in double.
TESSERA_FAST_OP(kRsqrt, float, float, static_cast<float>(1.0 / std::sqrt(static_cast<double>(x))))
TESSERA_FAST_OP(kRelu, float, float, (x > 0 || x != x) ? x : 0.0f)
TESSERA_FAST_OP(kRelu6, float, float, SelectIf(x != x, x, SelectIf(x > 6, 6.0f, SelectIf(x > 0, x, 0.0f))))
TESSERA_FAST_OP(kStep, float, float, SelectIf(x != x, x, SelectIf(x > 0, 1.0f, static_cast<float>(a.alpha))))
TESSERA_FAST_OP(kLeakyRelu, float, float, SelectIf(x < 0, static_cast<float>(a.alpha * static_cast<double>(x)), x))
TESSERA_FAST_OP(kClipByValue, float, float,
                SelectIf(static_cast<double>(x) > a.clip_max, static_cast<float>(a.clip_max),
                         SelectIf(static_cast<double>(x) < a.clip_min, static_cast<float>(a.clip_min), x)))
TESSERA_FAST_OP(kIsFinite, float, uint8_t, std::isfinite(x) ? 1 : 0)
TESSERA_FAST_OP(kIsInf, float, uint8_t, std::fabs(x) == INFINITY ? 1 : 0)
TESSERA_FAST_OP(kIsNan, float, uint8_t, x != x ? 1 : 0)
TESSERA_FAST_OP(kLogicalNot, float, uint8_t, (x == 0 || x != x) ? 1 : 0)
// Int32 negation wraps like ToInt32(-1 * x); Relu's Math.max/min need no NaN care on ints.
TESSERA_FAST_OP(kNeg, int32_t, int32_t, static_cast<int32_t>(0u - static_cast<uint32_t>(x)))
// Neg of bool is the identity (see RunRef).
TESSERA_FAST_OP(kNeg, uint8_t, uint8_t, x)
TESSERA_FAST_OP(kRelu, int32_t, int32_t, x > 0 ? x : 0)
TESSERA_FAST_OP(kRelu6, int32_t, int32_t, x > 6 ? 6 : x > 0 ? x : 0)
TESSERA_FAST_OP(kIsFinite, int32_t, uint8_t, 1)
TESSERA_FAST_OP(kIsInf, int32_t, uint8_t, 0)
TESSERA_FAST_OP(kIsNan, int32_t, uint8_t, 0)
TESSERA_FAST_OP(kLogicalNot, int32_t, uint8_t, x == 0 ? 1 : 0)
#undef TESSERA_FAST_OP

// Round.js's banker's rounding is round-half-to-even except at -0.5, where it gives
// base + 1 = +0 (floor -1 is odd) instead of -0. For |x| >= 2^23 both return x.
template <>
struct Fast<UnaryOp::kRound, float> {
  using Out = float;
  static TESSERA_INLINE float Apply(float x, const UnaryAttrs&) { return x == -0.5f ? 0.0f : std::nearbyint(x); }
};

template <UnaryOp Op, typename In, typename Out>
TESSERA_INLINE void FastLoop(const In* x, Out* out, int64_t n, const UnaryAttrs& attrs) {
  const UnaryAttrs a = attrs;
  for (int64_t i = 0; i < n; i++) out[i] = Fast<Op, In>::Apply(x[i], a);
}

template <UnaryOp Op, typename In, typename Out>
void GenericChunk(const In* x, Out* out, int64_t n, const UnaryAttrs& a) {
  FastLoop<Op, In, Out>(x, out, n, a);
}

#if TESSERA_X86
template <UnaryOp Op, typename In, typename Out>
TESSERA_TARGET_AVX2 void Avx2Chunk(const In* x, Out* out, int64_t n, const UnaryAttrs& a) {
  FastLoop<Op, In, Out>(x, out, n, a);
}

// Full-width loads and stores for the memory-bound ops: on one core Relu of 1M floats from L3
// ran at 0.83 of the copy bandwidth with the AVX2 copy (102 of 123 GB/s), 0.94 with this one.
template <UnaryOp Op, typename In, typename Out>
TESSERA_TARGET_AVX512 void Avx512Chunk(const In* x, Out* out, int64_t n, const UnaryAttrs& a) {
  FastLoop<Op, In, Out>(x, out, n, a);
}

// ---------------------------------------------------------------------------------------
// Vectorized e^x in double precision for the float32 activations: tfjs computes Math.exp in
// double and rounds once to float, so a double-precision kernel whose error is a few double
// ulps rounds to the same float except when the exact value lies within ~1e-15 (relative)
// of a rounding boundary: results are within 1 float ulp and almost always identical.
//
// x = k ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2 so that k * kLn2Hi is exact),
// e^r - 1 by its Taylor series to r^13 (truncation below 1e-17 relative), then 2^k by
// building the exponent field. Inputs are clamped to [-708, 709], where 2^k stays a normal
// double; beyond it every caller's float result is already 0, 1, -1 or Inf.

struct ExpParts {
  __m256d scale;  // 2^k
  __m256d q;      // e^r - 1
};

TESSERA_TARGET_AVX2 inline ExpParts ExpReduce(__m256d x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kLog2e = 1.44269504088896338700e+00;
  // min/max return their second operand when either is NaN: this order keeps a NaN input.
  x = _mm256_max_pd(_mm256_set1_pd(-708.0), _mm256_min_pd(_mm256_set1_pd(709.0), x));
  __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(kLn2Hi), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(kLn2Lo), r);
  // 1/j! for j = 13 down to 1.
  static constexpr double kInvFactorial[] = {
      1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
      1.0 / 40320.0,      1.0 / 5040.0,      1.0 / 720.0,      1.0 / 120.0,     1.0 / 24.0,
      1.0 / 6.0,          1.0 / 2.0,         1.0,
  };
  __m256d p = _mm256_set1_pd(kInvFactorial[0]);
  for (int j = 1; j < 13; j++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kInvFactorial[j]));
  __m256i exponent = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k)), _mm256_set1_epi64x(1023));
  return {_mm256_castsi256_pd(_mm256_slli_epi64(exponent, 52)), _mm256_mul_pd(p, r)};
}

// JsExp: 1 + x below 2^-28, as V8 does.
TESSERA_TARGET_AVX2 inline __m256d ExpAvx2(__m256d x) {
  ExpParts e = ExpReduce(x);
  __m256d tiny = _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), x), _mm256_set1_pd(0x1p-28), _CMP_LT_OQ);
  return _mm256_blendv_pd(_mm256_fmadd_pd(e.scale, e.q, e.scale), _mm256_add_pd(_mm256_set1_pd(1.0), x), tiny);
}

// e^x - 1 = 2^k q + (2^k - 1): exact cancellation-free for k = 0, where expm1 is small.
TESSERA_TARGET_AVX2 inline __m256d Expm1Avx2(__m256d x) {
  ExpParts e = ExpReduce(x);
  return _mm256_fmadd_pd(e.scale, e.q, _mm256_sub_pd(e.scale, _mm256_set1_pd(1.0)));
}

template <UnaryOp Op>
TESSERA_TARGET_AVX2 inline __m256d ExpFamilyLanes(__m256d x) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d sign_mask = _mm256_set1_pd(-0.0);
  if constexpr (Op == UnaryOp::kExp) {
    return ExpAvx2(x);
  } else if constexpr (Op == UnaryOp::kExpm1) {
    return Expm1Avx2(x);
  } else if constexpr (Op == UnaryOp::kSigmoid) {
    return _mm256_div_pd(one, _mm256_add_pd(one, ExpAvx2(_mm256_xor_pd(x, sign_mask))));
  } else if constexpr (Op == UnaryOp::kTanh) {
    // tanh|x| = e / (e + 2) with e = expm1(2|x|): no cancellation near 0. 2|x| is capped at
    // 44, where tanh is 1 to double precision (min keeps NaN, as above).
    __m256d ax = _mm256_andnot_pd(sign_mask, x);
    __m256d e = Expm1Avx2(_mm256_min_pd(_mm256_set1_pd(44.0), _mm256_add_pd(ax, ax)));
    __m256d t = _mm256_div_pd(e, _mm256_add_pd(e, _mm256_set1_pd(2.0)));
    return _mm256_or_pd(t, _mm256_and_pd(x, sign_mask));
  } else if constexpr (Op == UnaryOp::kElu || Op == UnaryOp::kSelu) {
    // Math.exp(x) - 1 as the kernels write it (not expm1), so both agree with JS near 0.
    __m256d negative = _mm256_sub_pd(ExpAvx2(x), one);
    __m256d non_negative_mask = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ);
    if constexpr (Op == UnaryOp::kSelu) {
      negative = _mm256_mul_pd(_mm256_set1_pd(kSeluScaleAlpha), negative);
      x = _mm256_mul_pd(_mm256_set1_pd(kSeluScale), x);
    }
    return _mm256_blendv_pd(negative, x, non_negative_mask);
  }
}

// Ops with a hand-vectorized AVX2 path for float32: the e^x family, and the rounding ops,
// which GCC does not vectorize from std::floor and friends under -ftrapping-math.
constexpr bool HasFloatLanes(UnaryOp op) {
  return IsExpFamily(op) || op == UnaryOp::kFloor || op == UnaryOp::kCeil || op == UnaryOp::kRound;
}

template <UnaryOp Op>
TESSERA_TARGET_AVX2 inline __m256 FloatLanes(__m256 v) {
  if constexpr (Op == UnaryOp::kFloor) {
    return _mm256_round_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  } else if constexpr (Op == UnaryOp::kCeil) {
    return _mm256_round_ps(v, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
  } else if constexpr (Op == UnaryOp::kRound) {
    __m256 even = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_andnot_ps(_mm256_cmp_ps(v, _mm256_set1_ps(-0.5f), _CMP_EQ_OQ), even);
  } else {
    __m256d lo = ExpFamilyLanes<Op>(_mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    __m256d hi = ExpFamilyLanes<Op>(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
  }
}

template <UnaryOp Op>
TESSERA_TARGET_AVX2 void FloatLanesChunkAvx2(const float* x, float* out, int64_t n, const UnaryAttrs&) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, FloatLanes<Op>(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float in_tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float out_tail[8];
    std::memcpy(in_tail, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm256_storeu_ps(out_tail, FloatLanes<Op>(_mm256_loadu_ps(in_tail)));
    std::memcpy(out + i, out_tail, static_cast<size_t>(n - i) * sizeof(float));
  }
}
#endif  // TESSERA_X86

template <typename In, typename Out>
using ChunkFn = void (*)(const In*, Out*, int64_t, const UnaryAttrs&);

template <UnaryOp Op, typename In>
void RunFast(const In* x, typename OutOf<Op, In>::type* out, int64_t n, const UnaryAttrs& attrs) {
  using Out = typename OutOf<Op, In>::type;
  ChunkFn<In, Out> chunk = &GenericChunk<Op, In, Out>;
  int64_t grain = IsCheap(Op) ? kCheapGrain : kLibmGrain;
#if TESSERA_X86
  if (ActiveIsa() != Isa::kGeneric) {
    if constexpr (std::is_same_v<In, float> && HasFloatLanes(Op)) {
      chunk = &FloatLanesChunkAvx2<Op>;
      if (IsExpFamily(Op)) grain = kVectorMathGrain;
    } else if constexpr (IsCheap(Op)) {
      chunk = ActiveIsa() == Isa::kAvx512 ? &Avx512Chunk<Op, In, Out> : &Avx2Chunk<Op, In, Out>;
    }
  }
#endif
  if (n <= grain) {
    chunk(x, out, n, attrs);
    return;
  }
  ParallelFor(n, grain, [&](int64_t begin, int64_t end) { chunk(x + begin, out + begin, end - begin, attrs); });
}

template <UnaryOp Op, typename In>
void RunRef(const In* x, typename OutOf<Op, In>::type* out, int64_t n, const UnaryAttrs& a) {
  using Out = typename OutOf<Op, In>::type;
  if constexpr (Op == UnaryOp::kNeg && std::is_same_v<In, uint8_t>) {
    // Neg.js multiplies by -1 made in x's dtype, and a bool array stores -1 as true (1).
    for (int64_t i = 0; i < n; i++) out[i] = FromDouble<Out>(static_cast<double>(x[i]) * 1.0);
  } else {
    for (int64_t i = 0; i < n; i++) out[i] = FromDouble<Out>(Js<Op>::Apply(static_cast<double>(x[i]), a));
  }
}

template <UnaryOp Op, bool Reference>
void RunTyped(DType in, const void* x, void* out, int64_t n, const UnaryAttrs& a) {
  auto run = [&](auto* typed_x) {
    using In = std::remove_const_t<std::remove_pointer_t<decltype(typed_x)>>;
    auto* typed_out = static_cast<typename OutOf<Op, In>::type*>(out);
    if (Reference) {
      RunRef<Op, In>(typed_x, typed_out, n, a);
    } else {
      RunFast<Op, In>(typed_x, typed_out, n, a);
    }
  };
  switch (in) {
    case DType::kFloat32: run(static_cast<const float*>(x)); break;
    case DType::kInt32: run(static_cast<const int32_t*>(x)); break;
    case DType::kBool: run(static_cast<const uint8_t*>(x)); break;
  }
}

template <bool Reference>
void UnaryDispatch(UnaryOp op, DType in, const void* x, void* out, int64_t n, const UnaryAttrs& a) {
  if (n == 0) return;
  switch (op) {
#define CASE(OP) case UnaryOp::OP: RunTyped<UnaryOp::OP, Reference>(in, x, out, n, a); break;
    CASE(kAbs) CASE(kAcos) CASE(kAcosh) CASE(kAsin) CASE(kAsinh) CASE(kAtan) CASE(kAtanh) CASE(kCeil)
    CASE(kCos) CASE(kCosh) CASE(kErf) CASE(kExp) CASE(kExpm1) CASE(kFloor) CASE(kIsFinite) CASE(kIsInf)
    CASE(kIsNan) CASE(kLog) CASE(kLog1p) CASE(kLogicalNot) CASE(kNeg) CASE(kReciprocal) CASE(kRound)
    CASE(kRsqrt) CASE(kSign) CASE(kSin) CASE(kSinh) CASE(kSqrt) CASE(kSquare) CASE(kTan) CASE(kTanh)
    CASE(kStep) CASE(kClipByValue) CASE(kRelu) CASE(kRelu6) CASE(kLeakyRelu) CASE(kElu) CASE(kSelu)
    CASE(kSigmoid) CASE(kSoftplus)
#undef CASE
  }
}

// Runs body(typed pointer) for a pointer of dtype d.
template <typename P, typename F>
void WithType(DType d, P* p, F&& body) {
  using Byte = std::conditional_t<std::is_const_v<P>, const void, void>;
  Byte* raw = p;
  switch (d) {
    case DType::kFloat32: body(static_cast<std::conditional_t<std::is_const_v<P>, const float, float>*>(raw)); break;
    case DType::kInt32: body(static_cast<std::conditional_t<std::is_const_v<P>, const int32_t, int32_t>*>(raw)); break;
    case DType::kBool: body(static_cast<std::conditional_t<std::is_const_v<P>, const uint8_t, uint8_t>*>(raw)); break;
  }
}

template <typename T>
using Elem = std::remove_const_t<std::remove_pointer_t<T>>;

// Runs fn(begin, end) over [0, n) on the pool when n is above `grain`.
template <typename F>
void ForRange(int64_t n, int64_t grain, F&& fn) {
  if (n <= grain) {
    fn(int64_t{0}, n);
    return;
  }
  ParallelFor(n, grain, fn);
}

// ---------------------------------------------------------------------------------------
// Cast

// The typed array store tfjs's Cast does, element by element.
template <typename In, typename Out>
inline Out CastValue(In x) {
  if constexpr (std::is_same_v<Out, uint8_t>) {
    return x != 0 ? 1 : 0;  // notEqual(x, 0): true for NaN
  } else {
    return FromDouble<Out>(static_cast<double>(x));
  }
}

// Float to int32 without a branch per element: in-range values truncate with one vector
// conversion; the rare chunk holding NaN, ±Inf or |x| >= 2^31 gets ToInt32 element-wise.
void CastFloatToInt32(const float* x, int32_t* out, int64_t n) {
  constexpr float kLo = -2147483648.0f;
  constexpr float kHi = 2147483520.0f;  // the largest float below 2^31
  int32_t out_of_range = 0;
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const bool in_range = (v >= kLo) & (v <= kHi);
    out[i] = static_cast<int32_t>(SelectIf(in_range, v, 0.0f));
    out_of_range |= !in_range;
  }
  if (out_of_range == 0) return;
  for (int64_t i = 0; i < n; i++) {
    if (!(x[i] >= kLo && x[i] <= kHi)) out[i] = JsToInt32(x[i]);
  }
}

template <typename In, typename Out>
void CastChunk(const In* x, Out* out, int64_t n) {
  if constexpr (std::is_same_v<In, Out>) {
    std::memcpy(out, x, static_cast<size_t>(n) * sizeof(In));
  } else if constexpr (std::is_same_v<In, float> && std::is_same_v<Out, int32_t>) {
    CastFloatToInt32(x, out, n);
  } else {
    for (int64_t i = 0; i < n; i++) out[i] = CastValue<In, Out>(x[i]);
  }
}

// ---------------------------------------------------------------------------------------
// Prelu broadcasts x (plan's a) against alpha (plan's b) through PlanBroadcast, so the usual
// x [..., C] with alpha [C] becomes rows of C with alpha's row offset fixed at 0.

template <typename X, typename A>
inline float PreluValue(X x, A alpha) {
  double xv = static_cast<double>(x);
  return static_cast<float>(xv < 0 ? static_cast<double>(alpha) * xv : xv);
}

template <typename X, typename A>
void PreluTyped(const X* x, const A* alpha, float* out, const BroadcastPlan& p) {
  const int rank = static_cast<int>(p.shape.size());
  const int64_t inner = p.shape[rank - 1];
  const int64_t sx = p.a_strides[rank - 1], sa = p.b_strides[rank - 1];
  const int64_t rows = ShapeSize(p.shape) / inner;
  auto row_range = [&](int64_t row_begin, int64_t row_end) {
    for (int64_t row = row_begin; row < row_end; row++) {
      int64_t xo = 0, ao = 0, rem = row;
      for (int d = rank - 2; d >= 0; d--) {
        int64_t idx = rem % p.shape[d];
        rem /= p.shape[d];
        xo += idx * p.a_strides[d];
        ao += idx * p.b_strides[d];
      }
      const X* xr = x + xo;
      const A* ar = alpha + ao;
      float* o = out + row * inner;
      if (sx == 1 && sa == 1) {
        for (int64_t i = 0; i < inner; i++) o[i] = PreluValue(xr[i], ar[i]);
      } else if (sx == 1 && sa == 0) {
        const A av = ar[0];
        for (int64_t i = 0; i < inner; i++) o[i] = PreluValue(xr[i], av);
      } else {
        for (int64_t i = 0; i < inner; i++) o[i] = PreluValue(xr[i * sx], ar[i * sa]);
      }
    }
  };
  if (rows == 1) {
    ForRange(inner, kCheapGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) out[i] = PreluValue(x[i * sx], alpha[i * sa]);
    });
  } else {
    ForRange(rows, std::max<int64_t>(1, kCheapGrain / inner), row_range);
  }
}

}  // namespace

UnaryOp ParseUnaryOp(const std::string& name) {
  static const std::unordered_map<std::string, UnaryOp> ops = {
      {"Abs", UnaryOp::kAbs}, {"Acos", UnaryOp::kAcos}, {"Acosh", UnaryOp::kAcosh},
      {"Asin", UnaryOp::kAsin}, {"Asinh", UnaryOp::kAsinh}, {"Atan", UnaryOp::kAtan},
      {"Atanh", UnaryOp::kAtanh}, {"Ceil", UnaryOp::kCeil}, {"Cos", UnaryOp::kCos},
      {"Cosh", UnaryOp::kCosh}, {"Erf", UnaryOp::kErf}, {"Exp", UnaryOp::kExp},
      {"Expm1", UnaryOp::kExpm1}, {"Floor", UnaryOp::kFloor}, {"IsFinite", UnaryOp::kIsFinite},
      {"IsInf", UnaryOp::kIsInf}, {"IsNan", UnaryOp::kIsNan}, {"Log", UnaryOp::kLog},
      {"Log1p", UnaryOp::kLog1p}, {"LogicalNot", UnaryOp::kLogicalNot}, {"Neg", UnaryOp::kNeg},
      {"Reciprocal", UnaryOp::kReciprocal}, {"Round", UnaryOp::kRound}, {"Rsqrt", UnaryOp::kRsqrt},
      {"Sign", UnaryOp::kSign}, {"Sin", UnaryOp::kSin}, {"Sinh", UnaryOp::kSinh},
      {"Sqrt", UnaryOp::kSqrt}, {"Square", UnaryOp::kSquare}, {"Tan", UnaryOp::kTan},
      {"Tanh", UnaryOp::kTanh}, {"Step", UnaryOp::kStep}, {"ClipByValue", UnaryOp::kClipByValue},
      {"Relu", UnaryOp::kRelu}, {"Relu6", UnaryOp::kRelu6}, {"LeakyRelu", UnaryOp::kLeakyRelu},
      {"Elu", UnaryOp::kElu}, {"Selu", UnaryOp::kSelu}, {"Sigmoid", UnaryOp::kSigmoid},
      {"Softplus", UnaryOp::kSoftplus},
  };
  auto it = ops.find(name);
  if (it == ops.end()) throw Error("unary: unknown op '" + name + "'");
  return it->second;
}

DType UnaryOutDType(UnaryOp op, DType in) {
  switch (op) {
    case UnaryOp::kIsFinite: case UnaryOp::kIsInf: case UnaryOp::kIsNan: case UnaryOp::kLogicalNot:
      return DType::kBool;
    case UnaryOp::kExp: case UnaryOp::kLeakyRelu:
      return DType::kFloat32;
    default:
      return in;
  }
}

void Unary(UnaryOp op, DType in, const void* x, void* out, int64_t n, const UnaryAttrs& attrs) {
  UnaryDispatch<false>(op, in, x, out, n, attrs);
}

void UnaryRef(UnaryOp op, DType in, const void* x, void* out, int64_t n, const UnaryAttrs& attrs) {
  UnaryDispatch<true>(op, in, x, out, n, attrs);
}

void Cast(DType in, const void* x, DType out_dtype, void* out, int64_t n) {
  WithType(in, x, [&](auto* typed_x) {
    WithType(out_dtype, out, [&](auto* typed_out) {
      ForRange(n, kCheapGrain, [&](int64_t begin, int64_t end) { CastChunk(typed_x + begin, typed_out + begin, end - begin); });
    });
  });
}

void CastRef(DType in, const void* x, DType out_dtype, void* out, int64_t n) {
  WithType(in, x, [&](auto* typed_x) {
    WithType(out_dtype, out, [&](auto* typed_out) {
      using In = Elem<decltype(typed_x)>;
      using Out = Elem<decltype(typed_out)>;
      for (int64_t i = 0; i < n; i++) typed_out[i] = CastValue<In, Out>(typed_x[i]);
    });
  });
}

void Fill(DType dtype, void* out, int64_t n, double value) {
  WithType(dtype, out, [&](auto* typed_out) {
    const auto v = FromDouble<Elem<decltype(typed_out)>>(value);
    ForRange(n, kCheapGrain, [&](int64_t begin, int64_t end) { std::fill(typed_out + begin, typed_out + end, v); });
  });
}

void FillRef(DType dtype, void* out, int64_t n, double value) {
  WithType(dtype, out, [&](auto* typed_out) {
    for (int64_t i = 0; i < n; i++) typed_out[i] = FromDouble<Elem<decltype(typed_out)>>(value);
  });
}

void Select(const uint8_t* condition, int64_t condition_size, DType t_dtype, const void* t, DType e_dtype,
            const void* e, DType out_dtype, void* out, int64_t n) {
  if (n == 0) return;
  const int64_t inner = n / condition_size;
  WithType(t_dtype, t, [&](auto* typed_t) {
    WithType(e_dtype, e, [&](auto* typed_e) {
      WithType(out_dtype, out, [&](auto* typed_out) {
        using Out = Elem<decltype(typed_out)>;
        if (inner == 1) {
          ForRange(n, kCheapGrain, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; i++) {
              typed_out[i] = condition[i] == 1 ? static_cast<Out>(typed_t[i]) : static_cast<Out>(typed_e[i]);
            }
          });
          return;
        }
        ForRange(condition_size, std::max<int64_t>(1, kCheapGrain / inner), [&](int64_t begin, int64_t end) {
          for (int64_t row = begin; row < end; row++) {
            const int64_t offset = row * inner;
            Out* o = typed_out + offset;
            if (condition[row] == 1) {
              for (int64_t j = 0; j < inner; j++) o[j] = static_cast<Out>(typed_t[offset + j]);
            } else {
              for (int64_t j = 0; j < inner; j++) o[j] = static_cast<Out>(typed_e[offset + j]);
            }
          }
        });
      });
    });
  });
}

void SelectRef(const uint8_t* condition, int64_t condition_size, DType t_dtype, const void* t, DType e_dtype,
               const void* e, DType out_dtype, void* out, int64_t n) {
  if (n == 0) return;
  const int64_t inner = n / condition_size;
  WithType(t_dtype, t, [&](auto* typed_t) {
    WithType(e_dtype, e, [&](auto* typed_e) {
      WithType(out_dtype, out, [&](auto* typed_out) {
        using Out = Elem<decltype(typed_out)>;
        for (int64_t i = 0; i < n; i++) {
          double v = condition[i / inner] == 1 ? static_cast<double>(typed_t[i]) : static_cast<double>(typed_e[i]);
          typed_out[i] = FromDouble<Out>(v);
        }
      });
    });
  });
}

namespace {

inline float AddInto(float acc, float x) { return acc + x; }
inline int32_t AddInto(int32_t acc, int32_t x) {
  return static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(x));
}

template <typename T>
void AddNTyped(const std::vector<const void*>& inputs, T* out, int64_t n) {
  // Blocks small enough that `out` stays in L1 while every input streams through it.
  constexpr int64_t kBlock = 2048;
  ForRange(n, kCheapGrain, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b += kBlock) {
      const int64_t e = std::min(end, b + kBlock);
      for (int64_t i = b; i < e; i++) out[i] = AddInto(T(0), static_cast<const T*>(inputs[0])[i]);
      for (size_t k = 1; k < inputs.size(); k++) {
        const T* in = static_cast<const T*>(inputs[k]);
        for (int64_t i = b; i < e; i++) out[i] = AddInto(out[i], in[i]);
      }
    }
  });
}

}  // namespace

void AddN(DType dtype, const std::vector<const void*>& inputs, void* out, int64_t n) {
  if (n == 0) return;
  if (dtype == DType::kFloat32) {
    AddNTyped(inputs, static_cast<float*>(out), n);
  } else if (dtype == DType::kInt32) {
    AddNTyped(inputs, static_cast<int32_t*>(out), n);
  } else {
    throw Error("AddN: bool tensors are not added natively");
  }
}

void AddNRef(DType dtype, const std::vector<const void*>& inputs, void* out, int64_t n) {
  WithType(dtype, out, [&](auto* typed_out) {
    using T = Elem<decltype(typed_out)>;
    for (int64_t i = 0; i < n; i++) {
      double acc = 0;
      for (const void* input : inputs) {
        acc = static_cast<double>(FromDouble<T>(acc + static_cast<double>(static_cast<const T*>(input)[i])));
      }
      typed_out[i] = FromDouble<T>(acc);
    }
  });
}

void Prelu(DType x_dtype, const void* x, const Shape& x_shape, DType alpha_dtype, const void* alpha,
           const Shape& alpha_shape, float* out, const Shape& out_shape) {
  if (ShapeSize(out_shape) == 0) return;
  BroadcastPlan plan = PlanBroadcast(x_shape, alpha_shape, out_shape);
  WithType(x_dtype, x, [&](auto* typed_x) {
    WithType(alpha_dtype, alpha, [&](auto* typed_alpha) { PreluTyped(typed_x, typed_alpha, out, plan); });
  });
}

void PreluRef(DType x_dtype, const void* x, const Shape& x_shape, DType alpha_dtype, const void* alpha,
              const Shape& alpha_shape, float* out, const Shape& out_shape) {
  std::vector<int64_t> xs = BroadcastStrides(x_shape, out_shape);
  std::vector<int64_t> as = BroadcastStrides(alpha_shape, out_shape);
  const int64_t n = ShapeSize(out_shape);
  WithType(x_dtype, x, [&](auto* typed_x) {
    WithType(alpha_dtype, alpha, [&](auto* typed_alpha) {
      for (int64_t i = 0; i < n; i++) {
        int64_t xo = 0, ao = 0, rem = i;
        for (size_t d = out_shape.size(); d-- > 0;) {
          int64_t k = rem % out_shape[d];
          rem /= out_shape[d];
          xo += k * xs[d];
          ao += k * as[d];
        }
        double xv = static_cast<double>(typed_x[xo]);
        out[i] = static_cast<float>(xv < 0 ? static_cast<double>(typed_alpha[ao]) * xv : xv);
      }
    });
  });
}

void EluGrad(const float* dy, const float* y, float* out, int64_t n) {
  ForRange(n, kCheapGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      double v = y[i];
      out[i] = v >= 0 ? dy[i] : static_cast<float>(static_cast<double>(dy[i]) * (v + 1.0));
    }
  });
}

void EluGradRef(const float* dy, const float* y, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    double v = y[i];
    double d = dy[i];
    out[i] = static_cast<float>(v >= 0 ? d : d * (v + 1));
  }
}

}  // namespace tessera
