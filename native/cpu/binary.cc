#include "cpu/binary.h"

#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>
#include <algorithm>
#include <unordered_map>

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/isa.h"
#include "cpu/js_numeric.h"

// Forces the per-element functors into the loops that call them, including the per-ISA
// copies of those loops: a functor left out of line would be compiled for the baseline ISA.
#define TESSERA_INLINE inline __attribute__((always_inline))

namespace tessera {
namespace {

// Elements per thread below which splitting costs more than it saves (measured: a 1M-element
// add on 2 cores gains from 2 threads, a 16K one does not).
constexpr int64_t kParallelGrain = 1 << 15;

// Each functor computes one element in the way JavaScript would. Float paths that are exact
// in float (add, sub, mul, div: a single correctly rounded operation) stay in float so the
// compiler can vectorize them.
template <BinaryOp Op, typename T>
struct Fn;

#define TESSERA_FLOAT_INT_FN(OP, FEXPR, IEXPR)                                   \
  template <>                                                                   \
  struct Fn<OP, float> {                                                        \
    using Out = float;                                                          \
    static TESSERA_INLINE float Apply(float a, float b) { return FEXPR; }               \
  };                                                                            \
  template <>                                                                   \
  struct Fn<OP, int32_t> {                                                      \
    using Out = int32_t;                                                        \
    static TESSERA_INLINE int32_t Apply(int32_t a, int32_t b) { return IEXPR; }         \
  };

TESSERA_INLINE int32_t WrapAdd(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
TESSERA_INLINE int32_t WrapSub(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
inline double JsMod(double a, double b) {
  double rem = std::fmod(a, b);
  if ((a < 0 && b < 0) || (a >= 0 && b >= 0)) return rem;
  return std::fmod(rem + b, b);
}
// Math.pow differs from C's pow where C makes 1 the answer: 1^NaN, (±1)^(±Inf) are NaN in JS.
inline double JsPow(double a, double b) {
  if (std::isnan(b)) return NAN;
  if (std::isinf(b) && std::fabs(a) == 1.0) return NAN;
  return std::pow(a, b);
}
TESSERA_INLINE double Square(double d) { return d * d; }
TESSERA_INLINE float NanMax(float a, float b) { return (std::isnan(a) || std::isnan(b)) ? NAN : (a > b ? a : b); }
TESSERA_INLINE float NanMin(float a, float b) { return (std::isnan(a) || std::isnan(b)) ? NAN : (a < b ? a : b); }

TESSERA_FLOAT_INT_FN(BinaryOp::kAdd, a + b, WrapAdd(a, b))
TESSERA_FLOAT_INT_FN(BinaryOp::kSub, a - b, WrapSub(a, b))
TESSERA_FLOAT_INT_FN(BinaryOp::kMul, a * b, JsToInt32(static_cast<double>(a) * b))
TESSERA_FLOAT_INT_FN(BinaryOp::kRealDiv, a / b, JsToInt32(static_cast<double>(a) / b))
TESSERA_FLOAT_INT_FN(BinaryOp::kMaximum, NanMax(a, b), a > b ? a : b)
TESSERA_FLOAT_INT_FN(BinaryOp::kMinimum, NanMin(a, b), a < b ? a : b)
TESSERA_FLOAT_INT_FN(BinaryOp::kPow, static_cast<float>(JsPow(a, b)), JsToInt32(JsPow(a, b)))
TESSERA_FLOAT_INT_FN(BinaryOp::kSquaredDifference, static_cast<float>(Square(static_cast<double>(a) - b)),
                     JsToInt32(Square(static_cast<double>(a) - b)))
TESSERA_FLOAT_INT_FN(BinaryOp::kMod, static_cast<float>(JsMod(a, b)), JsToInt32(JsMod(a, b)))
TESSERA_FLOAT_INT_FN(BinaryOp::kAtan2, static_cast<float>(std::atan2(static_cast<double>(a), static_cast<double>(b))),
                     JsToInt32(std::atan2(static_cast<double>(a), static_cast<double>(b))))
#undef TESSERA_FLOAT_INT_FN

// tfjs's FloorDiv always produces int32, whatever the input dtype.
template <typename T>
struct Fn<BinaryOp::kFloorDiv, T> {
  using Out = int32_t;
  static TESSERA_INLINE int32_t Apply(T a, T b) { return JsToInt32(std::floor(static_cast<double>(a) / static_cast<double>(b))); }
};
template <>
struct Fn<BinaryOp::kBitwiseAnd, int32_t> {
  using Out = int32_t;
  static TESSERA_INLINE int32_t Apply(int32_t a, int32_t b) { return a & b; }
};
template <>
struct Fn<BinaryOp::kBitwiseAnd, float> {
  using Out = float;
  static TESSERA_INLINE float Apply(float a, float b) { return static_cast<float>(JsToInt32(a) & JsToInt32(b)); }
};

#define TESSERA_BOOL_FN(OP, EXPR)                                           \
  template <typename T>                                                     \
  struct Fn<OP, T> {                                                        \
    using Out = uint8_t;                                                    \
    static TESSERA_INLINE uint8_t Apply(T a, T b) { return (EXPR) ? 1 : 0; }        \
  };
TESSERA_BOOL_FN(BinaryOp::kEqual, a == b)
TESSERA_BOOL_FN(BinaryOp::kNotEqual, a != b)
TESSERA_BOOL_FN(BinaryOp::kLess, a < b)
TESSERA_BOOL_FN(BinaryOp::kLessEqual, a <= b)
TESSERA_BOOL_FN(BinaryOp::kGreater, a > b)
TESSERA_BOOL_FN(BinaryOp::kGreaterEqual, a >= b)
TESSERA_BOOL_FN(BinaryOp::kLogicalAnd, a && b)
TESSERA_BOOL_FN(BinaryOp::kLogicalOr, a || b)
TESSERA_BOOL_FN(BinaryOp::kLogicalXor, (a != 0) != (b != 0))
#undef TESSERA_BOOL_FN

// out[i] = a[i * sa] (op) b[i * sb] for i in [0, n), with the common strides spelled out
// so that their loops vectorize.
template <BinaryOp Op, typename T>
TESSERA_INLINE void SpanBody(const T* a, int64_t sa, const T* b, int64_t sb, typename Fn<Op, T>::Out* o, int64_t n) {
  using F = Fn<Op, T>;
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; i++) o[i] = F::Apply(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const T bv = b[0];
    for (int64_t i = 0; i < n; i++) o[i] = F::Apply(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const T av = a[0];
    for (int64_t i = 0; i < n; i++) o[i] = F::Apply(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; i++) o[i] = F::Apply(a[i * sa], b[i * sb]);
  }
}

template <BinaryOp Op, typename T>
using SpanFn = void (*)(const T*, int64_t, const T*, int64_t, typename Fn<Op, T>::Out*, int64_t);

template <BinaryOp Op, typename T>
void SpanGeneric(const T* a, int64_t sa, const T* b, int64_t sb, typename Fn<Op, T>::Out* o, int64_t n) {
  SpanBody<Op, T>(a, sa, b, sb, o, n);
}

#if TESSERA_X86
// The same loops compiled for the wider ISAs: the baseline build vectorizes with SSE2 only,
// which leaves a single core short of the cache bandwidth a 1M-element add can use.
template <BinaryOp Op, typename T>
TESSERA_TARGET_AVX2 void SpanAvx2(const T* a, int64_t sa, const T* b, int64_t sb, typename Fn<Op, T>::Out* o,
                                  int64_t n) {
  SpanBody<Op, T>(a, sa, b, sb, o, n);
}

template <BinaryOp Op, typename T>
TESSERA_TARGET_AVX512 void SpanAvx512(const T* a, int64_t sa, const T* b, int64_t sb, typename Fn<Op, T>::Out* o,
                                      int64_t n) {
  SpanBody<Op, T>(a, sa, b, sb, o, n);
}
#endif

template <BinaryOp Op, typename T>
SpanFn<Op, T> PickSpan() {
#if TESSERA_X86
  switch (ActiveIsa()) {
    case Isa::kAvx512: return SpanAvx512<Op, T>;
    case Isa::kAvx2: return SpanAvx2<Op, T>;
    default: break;
  }
#endif
  return SpanGeneric<Op, T>;
}

template <BinaryOp Op, typename T>
void Run(const T* a, const T* b, typename Fn<Op, T>::Out* out, const BroadcastPlan& p) {
  const int rank = static_cast<int>(p.shape.size());
  const int64_t inner = p.shape[rank - 1];
  const int64_t sa = p.a_strides[rank - 1], sb = p.b_strides[rank - 1];
  if (inner == 0) return;
  const int64_t rows = ShapeSize(p.shape) / inner;
  const SpanFn<Op, T> span = PickSpan<Op, T>();
  if (rows == 1 && inner <= kParallelGrain) {
    // A tiny op: no thread split, and no std::function to build for one.
    span(a, sa, b, sb, out, inner);
    return;
  }
  if (rows == 1) {
    // One long row: split it instead.
    ParallelFor(inner, kParallelGrain, [&](int64_t begin, int64_t end) {
      span(a + begin * sa, sa, b + begin * sb, sb, out + begin, end - begin);
    });
    return;
  }
  auto row_kernel = [&](int64_t row_begin, int64_t row_end) {
    for (int64_t row = row_begin; row < row_end; row++) {
      int64_t ao = 0, bo = 0, rem = row;
      for (int d = rank - 2; d >= 0; d--) {
        int64_t idx = rem % p.shape[d];
        rem /= p.shape[d];
        ao += idx * p.a_strides[d];
        bo += idx * p.b_strides[d];
      }
      span(a + ao, sa, b + bo, sb, out + row * inner, inner);
    }
  };
  ParallelFor(rows, std::max<int64_t>(1, kParallelGrain / inner), row_kernel);
}

template <BinaryOp Op>
void RunTyped(DType in, const void* a, const void* b, void* out, const BroadcastPlan& p) {
  switch (in) {
    case DType::kFloat32:
      Run<Op, float>(static_cast<const float*>(a), static_cast<const float*>(b),
                     static_cast<typename Fn<Op, float>::Out*>(out), p);
      break;
    case DType::kInt32:
    case DType::kBool:
      if (in == DType::kBool) {
        // Bool tensors are Uint8Array: widen to int32 semantics element by element.
        if constexpr (std::is_same_v<typename Fn<Op, int32_t>::Out, uint8_t>) {
          Run<Op, uint8_t>(static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b),
                           static_cast<uint8_t*>(out), p);
        } else {
          throw Error("binary op: arithmetic on bool tensors is not supported natively");
        }
      } else {
        Run<Op, int32_t>(static_cast<const int32_t*>(a), static_cast<const int32_t*>(b),
                         static_cast<typename Fn<Op, int32_t>::Out*>(out), p);
      }
      break;
  }
}

}  // namespace

bool BinaryOpReturnsBool(BinaryOp op) { return op >= BinaryOp::kEqual; }

BinaryOp ParseBinaryOp(const std::string& name) {
  static const std::unordered_map<std::string, BinaryOp> ops = {
      {"Add", BinaryOp::kAdd}, {"Sub", BinaryOp::kSub}, {"Multiply", BinaryOp::kMul},
      {"RealDiv", BinaryOp::kRealDiv}, {"FloorDiv", BinaryOp::kFloorDiv},
      {"Maximum", BinaryOp::kMaximum}, {"Minimum", BinaryOp::kMinimum}, {"Pow", BinaryOp::kPow},
      {"SquaredDifference", BinaryOp::kSquaredDifference}, {"Mod", BinaryOp::kMod},
      {"Atan2", BinaryOp::kAtan2}, {"Equal", BinaryOp::kEqual}, {"NotEqual", BinaryOp::kNotEqual},
      {"Less", BinaryOp::kLess}, {"LessEqual", BinaryOp::kLessEqual}, {"Greater", BinaryOp::kGreater},
      {"GreaterEqual", BinaryOp::kGreaterEqual}, {"LogicalAnd", BinaryOp::kLogicalAnd},
      {"LogicalOr", BinaryOp::kLogicalOr}, {"LogicalXor", BinaryOp::kLogicalXor},
      {"BitwiseAnd", BinaryOp::kBitwiseAnd},
  };
  auto it = ops.find(name);
  if (it == ops.end()) throw Error("binary: unknown op '" + name + "'");
  return it->second;
}

void Binary(BinaryOp op, DType in, const void* a, const Shape& a_shape, const void* b,
            const Shape& b_shape, void* out, const Shape& out_shape) {
  if (ShapeSize(out_shape) == 0) return;
  BroadcastPlan p = PlanBroadcast(a_shape, b_shape, out_shape);
  switch (op) {
#define CASE(OP) case OP: RunTyped<OP>(in, a, b, out, p); break;
    CASE(BinaryOp::kAdd) CASE(BinaryOp::kSub) CASE(BinaryOp::kMul) CASE(BinaryOp::kRealDiv)
    CASE(BinaryOp::kFloorDiv) CASE(BinaryOp::kMaximum) CASE(BinaryOp::kMinimum) CASE(BinaryOp::kPow)
    CASE(BinaryOp::kSquaredDifference) CASE(BinaryOp::kMod) CASE(BinaryOp::kAtan2)
    CASE(BinaryOp::kEqual) CASE(BinaryOp::kNotEqual) CASE(BinaryOp::kLess) CASE(BinaryOp::kLessEqual)
    CASE(BinaryOp::kGreater) CASE(BinaryOp::kGreaterEqual) CASE(BinaryOp::kLogicalAnd)
    CASE(BinaryOp::kLogicalOr) CASE(BinaryOp::kLogicalXor) CASE(BinaryOp::kBitwiseAnd)
#undef CASE
  }
}

namespace {

template <BinaryOp Op, typename T>
void RefTyped(const T* a, const Shape& a_shape, const T* b, const Shape& b_shape,
              typename Fn<Op, T>::Out* out, const Shape& out_shape) {
  std::vector<int64_t> as = BroadcastStrides(a_shape, out_shape);
  std::vector<int64_t> bs = BroadcastStrides(b_shape, out_shape);
  int64_t n = ShapeSize(out_shape);
  std::vector<int64_t> idx(out_shape.size(), 0);
  for (int64_t i = 0; i < n; i++) {
    int64_t ao = 0, bo = 0, rem = i;
    for (size_t d = out_shape.size(); d-- > 0;) {
      int64_t k = rem % out_shape[d];
      rem /= out_shape[d];
      ao += k * as[d];
      bo += k * bs[d];
    }
    out[i] = Fn<Op, T>::Apply(a[ao], b[bo]);
  }
}

template <BinaryOp Op>
void RefDispatch(DType in, const void* a, const Shape& a_shape, const void* b, const Shape& b_shape,
                 void* out, const Shape& out_shape) {
  if (in == DType::kFloat32) {
    RefTyped<Op, float>(static_cast<const float*>(a), a_shape, static_cast<const float*>(b), b_shape,
                        static_cast<typename Fn<Op, float>::Out*>(out), out_shape);
  } else if (in == DType::kInt32) {
    RefTyped<Op, int32_t>(static_cast<const int32_t*>(a), a_shape, static_cast<const int32_t*>(b), b_shape,
                          static_cast<typename Fn<Op, int32_t>::Out*>(out), out_shape);
  } else if constexpr (std::is_same_v<typename Fn<Op, int32_t>::Out, uint8_t>) {
    RefTyped<Op, uint8_t>(static_cast<const uint8_t*>(a), a_shape, static_cast<const uint8_t*>(b), b_shape,
                          static_cast<uint8_t*>(out), out_shape);
  } else {
    throw Error("binary op: arithmetic on bool tensors is not supported natively");
  }
}

}  // namespace

void BinaryRef(BinaryOp op, DType in, const void* a, const Shape& a_shape, const void* b,
               const Shape& b_shape, void* out, const Shape& out_shape) {
  switch (op) {
#define CASE(OP) case OP: RefDispatch<OP>(in, a, a_shape, b, b_shape, out, out_shape); break;
    CASE(BinaryOp::kAdd) CASE(BinaryOp::kSub) CASE(BinaryOp::kMul) CASE(BinaryOp::kRealDiv)
    CASE(BinaryOp::kFloorDiv) CASE(BinaryOp::kMaximum) CASE(BinaryOp::kMinimum) CASE(BinaryOp::kPow)
    CASE(BinaryOp::kSquaredDifference) CASE(BinaryOp::kMod) CASE(BinaryOp::kAtan2)
    CASE(BinaryOp::kEqual) CASE(BinaryOp::kNotEqual) CASE(BinaryOp::kLess) CASE(BinaryOp::kLessEqual)
    CASE(BinaryOp::kGreater) CASE(BinaryOp::kGreaterEqual) CASE(BinaryOp::kLogicalAnd)
    CASE(BinaryOp::kLogicalOr) CASE(BinaryOp::kLogicalXor) CASE(BinaryOp::kBitwiseAnd)
#undef CASE
  }
}

}  // namespace tessera
