// The reduction engine. The input is read in place: after dropping size-1 dims and merging
// neighbours of the same kind, the innermost dim is either reduced (each output reduces
// contiguous rows: "inner" reductions such as a sum over the last axis) or kept (each
// output row accumulates whole input rows, vectorized across the row: "outer" reductions
// such as the sum over axis 0 of [N, C] that bias gradients need). Other dims are walked
// with an odometer, so no transpose is ever materialized.
//
// Each op is a policy that says how tfjs computes one output: Start from the first element
// of the reduction, Step through every element in order, Finish into the output dtype.
// Ops whose partial results combine exactly (or, for float sums, within double rounding)
// also split one output's reduction across threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <unordered_map>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/isa.h"
#include "cpu/js_numeric.h"
#include "cpu/reduce.h"
#include "cpu/reduce_internal.h"

namespace tessera {
namespace {

// Input elements per task below which another thread costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 15;
// Output columns accumulated together by an outer reduction: the accumulators stay in L1.
constexpr int64_t kTile = 512;

template <typename T>
TESSERA_INLINE bool IsNan(T v) {
  if constexpr (std::is_same_v<T, float>) {
    return v != v;
  } else {
    return false;
  }
}

template <typename T>
using IntOrFloat = std::conditional_t<std::is_same_v<T, float>, float, int32_t>;

// The largest (IsMax) or smallest value of x[0..n), n >= 32, in any order of comparison, and
// whether x holds a NaN. Which of two equal zeros comes back is unspecified.
template <bool IsMax>
float FloatExtremeRowGeneric(const float* x, int64_t n, bool* has_nan) {
  constexpr int L = 16;
  float m[L], nan[L];
  for (int l = 0; l < L; l++) {
    m[l] = x[l];
    nan[l] = 0;
  }
  int64_t i = L;
  for (; i + L <= n; i += L) {
    for (int l = 0; l < L; l++) {
      const float v = x[i + l];
      m[l] = (IsMax ? v > m[l] : v < m[l]) ? v : m[l];
      nan[l] = v != v ? v : nan[l];
    }
  }
  bool any_nan = false;
  float best = m[0];
  for (int l = 0; l < L; l++) {
    any_nan = any_nan || m[l] != m[l] || nan[l] != nan[l];
    best = (IsMax ? m[l] > best : m[l] < best) ? m[l] : best;
  }
  for (; i < n; i++) {
    best = (IsMax ? x[i] > best : x[i] < best) ? x[i] : best;
    any_nan = any_nan || x[i] != x[i];
  }
  *has_nan = any_nan;
  return best;
}

#if TESSERA_X86
// The vector max/min return their second operand when either is NaN, so a NaN in x never
// enters the running extreme (the unordered compares catch it instead).
template <bool IsMax>
TESSERA_TARGET_AVX2 inline __m256 Pick8(__m256 v, __m256 m) {
  return IsMax ? _mm256_max_ps(v, m) : _mm256_min_ps(v, m);
}
// GCC 12 warns inside its own AVX-512 headers (the self-initialized "undefined" vector its
// max/min intrinsics start from): a false positive, silenced for these functions only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
template <bool IsMax>
TESSERA_TARGET_AVX512 inline __m512 Pick16(__m512 v, __m512 m) {
  return IsMax ? _mm512_max_ps(v, m) : _mm512_min_ps(v, m);
}
#pragma GCC diagnostic pop

template <bool IsMax>
TESSERA_TARGET_AVX2 float FloatExtremeRowAvx2(const float* x, int64_t n, bool* has_nan) {
  const auto pick = Pick8<IsMax>;
  __m256 m0 = _mm256_loadu_ps(x), m1 = _mm256_loadu_ps(x + 8), m2 = _mm256_loadu_ps(x + 16), m3 = _mm256_loadu_ps(x + 24);
  __m256 bad = _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(m0, m0, _CMP_UNORD_Q), _mm256_cmp_ps(m1, m1, _CMP_UNORD_Q)),
                            _mm256_or_ps(_mm256_cmp_ps(m2, m2, _CMP_UNORD_Q), _mm256_cmp_ps(m3, m3, _CMP_UNORD_Q)));
  int64_t i = 32;
  for (; i + 32 <= n; i += 32) {
    const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    const __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
    m0 = pick(v0, m0);
    m1 = pick(v1, m1);
    m2 = pick(v2, m2);
    m3 = pick(v3, m3);
    bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(v0, v0, _CMP_UNORD_Q), _mm256_cmp_ps(v1, v1, _CMP_UNORD_Q)),
                                         _mm256_or_ps(_mm256_cmp_ps(v2, v2, _CMP_UNORD_Q), _mm256_cmp_ps(v3, v3, _CMP_UNORD_Q))));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, pick(pick(m0, m1), pick(m2, m3)));
  bool any_nan = _mm256_movemask_ps(bad) != 0;
  float best = lanes[0];
  for (int l = 1; l < 8; l++) best = (IsMax ? lanes[l] > best : lanes[l] < best) ? lanes[l] : best;
  for (; i < n; i++) {
    best = (IsMax ? x[i] > best : x[i] < best) ? x[i] : best;
    any_nan = any_nan || x[i] != x[i];
  }
  *has_nan = any_nan;
  return best;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
template <bool IsMax>
TESSERA_TARGET_AVX512 float FloatExtremeRowAvx512(const float* x, int64_t n, bool* has_nan) {
  const auto pick = Pick16<IsMax>;
  __m512 m0 = _mm512_loadu_ps(x), m1 = _mm512_loadu_ps(x + 16);
  __mmask16 bad = _mm512_cmp_ps_mask(m0, m0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(m1, m1, _CMP_UNORD_Q);
  int64_t i = 32;
  for (; i + 64 <= n; i += 64) {
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    const __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
    m0 = pick(v0, m0);
    m1 = pick(v1, m1);
    m0 = pick(v2, m0);
    m1 = pick(v3, m1);
    bad |= _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q) |
           _mm512_cmp_ps_mask(v2, v2, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v3, v3, _CMP_UNORD_Q);
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, pick(m0, m1));
  bool any_nan = bad != 0;
  float best = lanes[0];
  for (int l = 1; l < 16; l++) best = (IsMax ? lanes[l] > best : lanes[l] < best) ? lanes[l] : best;
  for (; i < n; i++) {
    best = (IsMax ? x[i] > best : x[i] < best) ? x[i] : best;
    any_nan = any_nan || x[i] != x[i];
  }
  *has_nan = any_nan;
  return best;
}
#pragma GCC diagnostic pop
#endif

template <bool IsMax>
float FloatExtremeRow(const float* x, int64_t n, bool* has_nan) {
  using Fn = float (*)(const float*, int64_t, bool*);
  static const Fn fn = [] {
#if TESSERA_X86
    switch (ActiveIsa()) {
      case Isa::kAvx512: return static_cast<Fn>(FloatExtremeRowAvx512<IsMax>);
      case Isa::kAvx2: return static_cast<Fn>(FloatExtremeRowAvx2<IsMax>);
      default: break;
    }
#endif
    return static_cast<Fn>(FloatExtremeRowGeneric<IsMax>);
  }();
  return fn(x, n, has_nan);
}

// The double sum of x[0..n), n >= 64, in any order. Sixteen double lanes in two vectors
// (what the compiler makes of a plain loop) leave the sum bound by the latency of the adds,
// about 83 GB/s on one core of the machine this was tuned on; with eight vectors of partial
// sums the float-to-double conversions (one per cycle) are the limit: 101 GB/s from L3,
// 110 from L2.
double FloatSumRowGeneric(const float* x, int64_t n) {
  constexpr int L = 16;
  double lanes[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    for (int l = 0; l < L; l++) lanes[l] += x[i + l];
  }
  double s = 0;
  for (int l = 0; l < L; l++) s += lanes[l];
  for (; i < n; i++) s += x[i];
  return s;
}

#if TESSERA_X86
TESSERA_TARGET_AVX2 double FloatSumRowAvx2(const float* x, int64_t n) {
  __m256d a[8];
  for (auto& v : a) v = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int v = 0; v < 8; v++) a[v] = _mm256_add_pd(a[v], _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * v)));
  }
  for (; i + 4 <= n; i += 4) a[0] = _mm256_add_pd(a[0], _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
  const __m256d sum = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(a[0], a[1]), _mm256_add_pd(a[2], a[3])),
                                    _mm256_add_pd(_mm256_add_pd(a[4], a[5]), _mm256_add_pd(a[6], a[7])));
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, sum);
  double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; i++) s += x[i];
  return s;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
TESSERA_TARGET_AVX512 double FloatSumRowAvx512(const float* x, int64_t n) {
  __m512d a[8];
  for (auto& v : a) v = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int v = 0; v < 8; v++) a[v] = _mm512_add_pd(a[v], _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8 * v)));
  }
  for (; i + 8 <= n; i += 8) a[0] = _mm512_add_pd(a[0], _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
  const __m512d sum = _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(a[0], a[1]), _mm512_add_pd(a[2], a[3])),
                                    _mm512_add_pd(_mm512_add_pd(a[4], a[5]), _mm512_add_pd(a[6], a[7])));
  double s = _mm512_reduce_add_pd(sum);
  for (; i < n; i++) s += x[i];
  return s;
}
#pragma GCC diagnostic pop
#endif

double FloatSumRow(const float* x, int64_t n) {
  using Fn = double (*)(const float*, int64_t);
  static const Fn fn = [] {
#if TESSERA_X86
    switch (ActiveIsa()) {
      case Isa::kAvx512: return static_cast<Fn>(FloatSumRowAvx512);
      case Isa::kAvx2: return static_cast<Fn>(FloatSumRowAvx2);
      default: break;
    }
#endif
    return static_cast<Fn>(FloatSumRowGeneric);
  }();
  return fn(x, n);
}

// ---------------------------------------------------------------------------------------
// Policies. Row(acc, x, n, r) must equal Step over x[0..n) with indices r, r+1, ...; kWide
// marks the policies whose loops gain from the AVX2 / AVX-512 copies of the engine.

// Sum of float32: JS adds in double and stores the total into a Float32Array.
struct SumF32 {
  using In = float;
  using Acc = double;
  using Out = float;
  static constexpr bool kWide = true;
  static constexpr bool kSplittable = true;
  TESSERA_INLINE Acc Start(float) const { return 0; }
  TESSERA_INLINE void Step(Acc& a, float v, int64_t) const { a += v; }
  TESSERA_INLINE void Combine(Acc& a, Acc b) const { a += b; }
  TESSERA_INLINE Out Finish(Acc a) const { return static_cast<float>(a); }
  TESSERA_INLINE Out Empty() const { return 0; }
  // Partial sums in vector lanes: the order differs from tfjs's single chain only by double
  // rounding, far below float32's.
  TESSERA_INLINE void Row(Acc& a, const float* x, int64_t n, int64_t) const {
    if (n < 64) {
      for (int64_t i = 0; i < n; i++) a += x[i];
      return;
    }
    a += FloatSumRow(x, n);
  }
};

// Sum of int32 or bool: JS's double total is exact below 2^53 and ToInt32 of it is the sum
// modulo 2^32, which wrapping 32-bit addition gives in any order.
template <typename T>
struct SumInt {
  using In = T;
  using Acc = uint32_t;
  using Out = int32_t;
  static constexpr bool kWide = true;
  static constexpr bool kSplittable = true;
  TESSERA_INLINE Acc Start(T) const { return 0; }
  TESSERA_INLINE void Step(Acc& a, T v, int64_t) const { a += static_cast<uint32_t>(static_cast<int32_t>(v)); }
  TESSERA_INLINE void Combine(Acc& a, Acc b) const { a += b; }
  TESSERA_INLINE Out Finish(Acc a) const { return static_cast<int32_t>(a); }
  TESSERA_INLINE Out Empty() const { return 0; }
  TESSERA_INLINE void Row(Acc& a, const T* x, int64_t n, int64_t) const {
    Acc s = 0;
    for (int64_t i = 0; i < n; i++) s += static_cast<uint32_t>(static_cast<int32_t>(x[i]));
    a += s;
  }
};

// Mean: tfjs casts to float32, divides every element by float32(n) and sums the quotients.
template <typename T>
struct Mean {
  using In = T;
  using Acc = double;
  using Out = float;
  static constexpr bool kWide = true;
  static constexpr bool kSplittable = true;
  float n;
  TESSERA_INLINE Acc Start(T) const { return 0; }
  TESSERA_INLINE void Step(Acc& a, T v, int64_t) const { a += static_cast<float>(v) / n; }
  TESSERA_INLINE void Combine(Acc& a, Acc b) const { a += b; }
  TESSERA_INLINE Out Finish(Acc a) const { return static_cast<float>(a); }
  TESSERA_INLINE Out Empty() const { return 0; }
  TESSERA_INLINE void Row(Acc& a, const T* x, int64_t count, int64_t) const {
    constexpr int L = 16;
    if (count < 2 * L) {
      for (int64_t i = 0; i < count; i++) a += static_cast<float>(x[i]) / n;
      return;
    }
    double lanes[L] = {};
    int64_t i = 0;
    for (; i + L <= count; i += L) {
      for (int l = 0; l < L; l++) lanes[l] += static_cast<float>(x[i + l]) / n;
    }
    double s = 0;
    for (int l = 0; l < L; l++) s += lanes[l];
    for (; i < count; i++) s += static_cast<float>(x[i]) / n;
    a += s;
  }
};

// Prod: one double product in tfjs's order (past 2^53 an int32 product depends on it).
template <typename T>
struct Prod {
  using In = T;
  using Acc = double;
  using Out = IntOrFloat<T>;
  static constexpr bool kWide = false;
  static constexpr bool kSplittable = false;
  TESSERA_INLINE Acc Start(T) const { return 1; }
  TESSERA_INLINE void Step(Acc& a, T v, int64_t) const { a *= static_cast<double>(v); }
  TESSERA_INLINE void Combine(Acc&, Acc) const {}
  TESSERA_INLINE Out Finish(Acc a) const { return FromDouble<Out>(a); }
  TESSERA_INLINE Out Empty() const { return 1; }
  TESSERA_INLINE void Row(Acc& a, const T* x, int64_t n, int64_t) const {
    for (int64_t i = 0; i < n; i++) a *= static_cast<double>(x[i]);
  }
};

// Max and Min as tfjs's maxImpl: start from the first element and take v when
// isNaN(v) || v > max. So any NaN wins, and among equal values the first one stays (which
// decides the sign of a zero result). Combining partial results in order with the same rule
// is exact, so these split across threads.
template <typename T, bool IsMax>
struct Extreme {
  using In = T;
  using Acc = T;
  using Out = T;
  static constexpr bool kWide = true;
  static constexpr bool kSplittable = true;
  static TESSERA_INLINE bool Beats(T v, T m) { return IsMax ? v > m : v < m; }
  TESSERA_INLINE Acc Start(T first) const { return first; }
  TESSERA_INLINE void Step(Acc& a, T v, int64_t) const {
    if (IsNan(v) || Beats(v, a)) a = v;
  }
  TESSERA_INLINE void Combine(Acc& a, Acc b) const { Step(a, b, 0); }
  TESSERA_INLINE Out Finish(Acc a) const { return a; }
  TESSERA_INLINE Out Empty() const {
    // tfjs reads aVals[offset] of an empty input: undefined, stored as NaN or 0.
    if constexpr (std::is_same_v<T, float>) {
      return std::numeric_limits<float>::quiet_NaN();
    } else {
      return 0;
    }
  }
  TESSERA_INLINE void Row(Acc& a, const T* x, int64_t n, int64_t) const {
    if constexpr (!std::is_same_v<T, float>) {
      if (n == 0) return;
      T m = x[0];
      for (int64_t i = 1; i < n; i++) m = Beats(x[i], m) ? x[i] : m;
      Step(a, m, 0);
    } else {
      if (n < 64) {
        for (int64_t i = 0; i < n; i++) Step(a, x[i], 0);
        return;
      }
      // Vector lanes find the extreme value and whether a NaN occurs, in any order; the sign
      // of a zero extreme (the only case where equal values differ) is settled afterwards by
      // finding the row's first zero.
      bool has_nan = false;
      float best = FloatExtremeRow<IsMax>(x, n, &has_nan);
      if (has_nan) {
        a = std::numeric_limits<float>::quiet_NaN();
        return;
      }
      if (best == 0) {
        for (int64_t j = 0; j < n; j++) {
          if (x[j] == 0) {
            best = x[j];
            break;
          }
        }
      }
      Step(a, best, 0);
    }
  }
};

// All and Any on bool: tfjs's `all = all && v` / `any = any || v` from the first element.
// On 0/1 values, All is 0 once a zero appears and otherwise the last value; Any is the first
// non-zero value.
struct AllBool {
  using In = uint8_t;
  using Acc = uint8_t;
  using Out = uint8_t;
  static constexpr bool kWide = false;
  static constexpr bool kSplittable = false;
  TESSERA_INLINE Acc Start(uint8_t first) const { return first; }
  TESSERA_INLINE void Step(Acc& a, uint8_t v, int64_t) const { a = a ? v : a; }
  TESSERA_INLINE void Combine(Acc&, Acc) const {}
  TESSERA_INLINE Out Finish(Acc a) const { return a; }
  TESSERA_INLINE Out Empty() const { return 0; }
  TESSERA_INLINE void Row(Acc& a, const uint8_t* x, int64_t n, int64_t) const {
    if (a == 0 || n == 0) return;
    a = std::memchr(x, 0, static_cast<size_t>(n)) != nullptr ? 0 : x[n - 1];
  }
};

struct AnyBool {
  using In = uint8_t;
  using Acc = uint8_t;
  using Out = uint8_t;
  static constexpr bool kWide = false;
  static constexpr bool kSplittable = false;
  TESSERA_INLINE Acc Start(uint8_t first) const { return first; }
  TESSERA_INLINE void Step(Acc& a, uint8_t v, int64_t) const { a = a ? a : v; }
  TESSERA_INLINE void Combine(Acc&, Acc) const {}
  TESSERA_INLINE Out Finish(Acc a) const { return a; }
  TESSERA_INLINE Out Empty() const { return 0; }
  TESSERA_INLINE void Row(Acc& a, const uint8_t* x, int64_t n, int64_t) const {
    for (int64_t i = 0; i < n && a == 0; i++) a = x[i];
  }
};

// ArgMax and ArgMin as tfjs: start at element 0 and move on a strict `v > max` only. A NaN
// first element therefore wins (nothing compares greater), later NaNs are skipped, and ties
// keep the first index.
template <typename T, bool IsMax>
struct ArgExtreme {
  struct Acc {
    T value;
    int32_t index;
  };
  using In = T;
  using Out = int32_t;
  static constexpr bool kWide = false;
  static constexpr bool kSplittable = false;
  TESSERA_INLINE Acc Start(T first) const { return {first, 0}; }
  TESSERA_INLINE void Step(Acc& a, T v, int64_t r) const {
    if (IsMax ? v > a.value : v < a.value) {
      a.value = v;
      a.index = static_cast<int32_t>(r);
    }
  }
  TESSERA_INLINE void Combine(Acc&, Acc) const {}
  TESSERA_INLINE Out Finish(Acc a) const { return a.index; }
  TESSERA_INLINE Out Empty() const { return 0; }
  TESSERA_INLINE void Row(Acc& a, const T* x, int64_t n, int64_t r) const {
    for (int64_t i = 0; i < n; i++) Step(a, x[i], r + i);
  }
};

// ---------------------------------------------------------------------------------------
// The layout: merged dims split into kept and reduced, outermost first.

struct Layout {
  std::vector<Dim> kept, reduced;
  int64_t out_size = 1, reduce_size = 1;
  bool inner_reduced = false;
};

Layout MakeLayout(const Shape& shape, const std::vector<int64_t>& axes) {
  std::vector<bool> is_reduced(shape.size(), false);
  for (int64_t a : axes) is_reduced[a] = true;
  Shape strides = RowMajorStrides(shape);
  Layout l;
  struct Merged {
    Dim dim;
    bool reduced;
  };
  std::vector<Merged> merged;
  for (size_t i = 0; i < shape.size(); i++) {
    (is_reduced[i] ? l.reduce_size : l.out_size) *= shape[i];
    if (shape[i] == 1) continue;
    if (!merged.empty() && merged.back().reduced == is_reduced[i]) {
      merged.back().dim.size *= shape[i];
      merged.back().dim.stride = strides[i];
    } else {
      merged.push_back({{shape[i], strides[i]}, is_reduced[i]});
    }
  }
  // Reducing nothing (or only size-1 dims) is an outer reduction over one input row.
  if (merged.empty()) merged.push_back({{1, 1}, false});
  l.inner_reduced = merged.back().reduced;
  for (const Merged& m : merged) (m.reduced ? l.reduced : l.kept).push_back(m.dim);
  return l;
}

// What one reduction task reads. For inner reductions `walk` is every kept dim (one output
// per step), `red` the reduced dims but the innermost, and `inner` that innermost run. For
// outer reductions `walk` is the kept dims but the innermost (output rows), `red` every
// reduced dim, and `inner` the innermost kept run (output columns).
template <class P>
struct Job {
  const typename P::In* x;
  typename P::Out* out;
  const Dim* walk;
  int nwalk;
  const Dim* red;
  int nred;
  int64_t inner;
  int64_t combos;  // reduced positions visited per output: product of `red` sizes
};

// Outputs [ob, oe) of an inner reduction, each over its whole reduction.
template <class P>
TESSERA_INLINE void InnerRowsBody(const P& p, const Job<P>& j, int64_t ob, int64_t oe) {
  int64_t o = ob;
  ForEachOffset(j.walk, j.nwalk, 0, ob, oe, [&](int64_t base) TESSERA_LAMBDA_INLINE {
    typename P::Acc acc = p.Start(j.x[base]);
    int64_t r = 0;
    ForEachOffset(j.red, j.nred, base, 0, j.combos, [&](int64_t off) TESSERA_LAMBDA_INLINE {
      p.Row(acc, j.x + off, j.inner, r);
      r += j.inner;
    });
    j.out[o++] = p.Finish(acc);
  });
}

// One output's reduced elements [rb, re) (flattened, rb < re) of an inner reduction, from
// the input offset `base` of its first element.
template <class P>
TESSERA_INLINE typename P::Acc InnerSpanBody(const P& p, const Job<P>& j, int64_t base, int64_t rb, int64_t re) {
  int64_t c = rb / j.inner;
  const int64_t ce = (re + j.inner - 1) / j.inner;
  typename P::Acc acc{};
  bool started = false;
  ForEachOffset(j.red, j.nred, base, c, ce, [&](int64_t off) TESSERA_LAMBDA_INLINE {
    const int64_t row = c * j.inner;
    const int64_t from = std::max<int64_t>(rb - row, 0);
    const int64_t to = std::min<int64_t>(j.inner, re - row);
    if (!started) {
      acc = p.Start(j.x[off + from]);
      started = true;
    }
    p.Row(acc, j.x + off + from, to - from, row + from);
    c++;
  });
  return acc;
}

// Output row `row`, columns [c0, c0 + cn) of an outer reduction, over the reduced positions
// [rb, re): accumulators in `acc`.
template <class P>
TESSERA_INLINE void OuterSpanBody(const P& p, const Job<P>& j, int64_t row, int64_t c0, int64_t cn, int64_t rb,
                                  int64_t re, typename P::Acc* acc) {
  int64_t base = c0;
  int64_t rem = row;
  for (int d = j.nwalk - 1; d >= 0; d--) {
    base += (rem % j.walk[d].size) * j.walk[d].stride;
    rem /= j.walk[d].size;
  }
  int64_t r = rb;
  bool started = false;
  ForEachOffset(j.red, j.nred, base, rb, re, [&](int64_t off) TESSERA_LAMBDA_INLINE {
    const typename P::In* in = j.x + off;
    if (!started) {
      for (int64_t c = 0; c < cn; c++) acc[c] = p.Start(in[c]);
      started = true;
    }
    for (int64_t c = 0; c < cn; c++) p.Step(acc[c], in[c], r);
    r++;
  });
}

TESSERA_ISA_VARIANTS(InnerRows, void, (const P& p, const Job<P>& j, int64_t ob, int64_t oe), (p, j, ob, oe))
TESSERA_ISA_VARIANTS(InnerSpan, typename P::Acc, (const P& p, const Job<P>& j, int64_t base, int64_t rb, int64_t re),
                     (p, j, base, rb, re))
TESSERA_ISA_VARIANTS(OuterSpan, void,
                     (const P& p, const Job<P>& j, int64_t row, int64_t c0, int64_t cn, int64_t rb, int64_t re,
                      typename P::Acc* acc),
                     (p, j, row, c0, cn, rb, re, acc))

// How many pieces to cut each output's reduction into so that `tasks` tasks of `work`
// elements each keep every thread busy; 1 when the tasks alone do.
int64_t SplitCount(bool splittable, int64_t tasks, int64_t work_per_task, int64_t positions) {
  const int64_t threads = NumThreads();
  if (!splittable || threads == 1 || tasks >= 2 * threads) return 1;
  if (tasks * work_per_task < 2 * kParallelGrain) return 1;
  int64_t pieces = (2 * threads + tasks - 1) / tasks;
  pieces = std::min(pieces, std::max<int64_t>(1, tasks * work_per_task / kParallelGrain));
  return std::max<int64_t>(1, std::min(pieces, positions));
}

template <class P>
void RunInner(const P& p, const Layout& l, const typename P::In* x, typename P::Out* out) {
  const Dim inner = l.reduced.back();
  Job<P> j{x, out, l.kept.data(), static_cast<int>(l.kept.size()), l.reduced.data(),
           static_cast<int>(l.reduced.size()) - 1, inner.size, l.reduce_size / inner.size};
  const int64_t pieces = SplitCount(P::kSplittable, l.out_size, l.reduce_size, l.reduce_size);
  if (pieces == 1) {
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / l.reduce_size);
    ParallelFor(l.out_size, grain, [&](int64_t b, int64_t e) { InnerRows(p, j, b, e); });
    return;
  }
  // Few outputs with long reductions: each output's reduction is cut into `pieces` spans,
  // reduced in parallel, then combined in order.
  std::vector<typename P::Acc> partial(l.out_size * pieces);
  std::vector<int64_t> base(l.out_size);
  ForEachOffset(j.walk, j.nwalk, 0, 0, l.out_size, [&, o = int64_t{0}](int64_t b) mutable { base[o++] = b; });
  ParallelFor(l.out_size * pieces, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / pieces, s = t % pieces;
      partial[t] = InnerSpan(p, j, base[o], l.reduce_size * s / pieces, l.reduce_size * (s + 1) / pieces);
    }
  });
  for (int64_t o = 0; o < l.out_size; o++) {
    typename P::Acc acc = partial[o * pieces];
    for (int64_t s = 1; s < pieces; s++) p.Combine(acc, partial[o * pieces + s]);
    out[o] = p.Finish(acc);
  }
}

template <class P>
void RunOuter(const P& p, const Layout& l, const typename P::In* x, typename P::Out* out) {
  const int64_t cols = l.kept.back().size;
  Job<P> j{x, out, l.kept.data(), static_cast<int>(l.kept.size()) - 1, l.reduced.data(),
           static_cast<int>(l.reduced.size()), cols, l.reduce_size};
  const int64_t rows = l.out_size / cols;
  const int64_t tiles = (cols + kTile - 1) / kTile;
  const int64_t tasks = rows * tiles;
  const int64_t tile_cols = std::min(cols, kTile);
  const int64_t pieces = SplitCount(P::kSplittable, tasks, tile_cols * l.reduce_size, l.reduce_size);
  if (pieces == 1) {
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / (tile_cols * l.reduce_size));
    ParallelFor(tasks, grain, [&](int64_t b, int64_t e) {
      typename P::Acc acc[kTile];
      for (int64_t t = b; t < e; t++) {
        const int64_t row = t / tiles, c0 = (t % tiles) * kTile, cn = std::min(kTile, cols - c0);
        OuterSpan(p, j, row, c0, cn, 0, l.reduce_size, acc);
        for (int64_t c = 0; c < cn; c++) out[row * cols + c0 + c] = p.Finish(acc[c]);
      }
    });
    return;
  }
  // Few output columns over many reduced rows: each thread accumulates a range of the
  // reduced rows into its own partial accumulators, combined in order afterwards.
  std::vector<typename P::Acc> partial(static_cast<size_t>(pieces * l.out_size));
  ParallelFor(tasks * pieces, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t task = t / pieces, s = t % pieces;
      const int64_t row = task / tiles, c0 = (task % tiles) * kTile, cn = std::min(kTile, cols - c0);
      OuterSpan(p, j, row, c0, cn, l.reduce_size * s / pieces, l.reduce_size * (s + 1) / pieces,
                partial.data() + s * l.out_size + row * cols + c0);
    }
  });
  for (int64_t o = 0; o < l.out_size; o++) {
    typename P::Acc acc = partial[o];
    for (int64_t s = 1; s < pieces; s++) p.Combine(acc, partial[s * l.out_size + o]);
    out[o] = p.Finish(acc);
  }
}

template <class P>
void Run(const P& p, const Shape& shape, const std::vector<int64_t>& axes, const void* x, void* out) {
  const Layout l = MakeLayout(shape, axes);
  auto* o = static_cast<typename P::Out*>(out);
  if (l.out_size == 0) return;
  if (l.reduce_size == 0) {
    std::fill(o, o + l.out_size, p.Empty());
    return;
  }
  const auto* in = static_cast<const typename P::In*>(x);
  if (l.inner_reduced) {
    RunInner(p, l, in, o);
  } else {
    RunOuter(p, l, in, o);
  }
}

template <typename T>
void RunTyped(ReduceOp op, const Shape& shape, const std::vector<int64_t>& axes, const void* x, void* out) {
  switch (op) {
    case ReduceOp::kSum:
      if constexpr (std::is_same_v<T, float>) {
        Run(SumF32{}, shape, axes, x, out);
      } else {
        Run(SumInt<T>{}, shape, axes, x, out);
      }
      return;
    case ReduceOp::kMean: {
      int64_t n = 1;
      for (int64_t a : axes) n *= shape[a];
      Run(Mean<T>{static_cast<float>(n)}, shape, axes, x, out);
      return;
    }
    case ReduceOp::kProd: Run(Prod<T>{}, shape, axes, x, out); return;
    case ReduceOp::kMax: Run(Extreme<T, true>{}, shape, axes, x, out); return;
    case ReduceOp::kMin: Run(Extreme<T, false>{}, shape, axes, x, out); return;
    case ReduceOp::kArgMax: Run(ArgExtreme<T, true>{}, shape, axes, x, out); return;
    case ReduceOp::kArgMin: Run(ArgExtreme<T, false>{}, shape, axes, x, out); return;
    case ReduceOp::kAll:
    case ReduceOp::kAny:
      if constexpr (std::is_same_v<T, uint8_t>) {
        if (op == ReduceOp::kAll) {
          Run(AllBool{}, shape, axes, x, out);
        } else {
          Run(AnyBool{}, shape, axes, x, out);
        }
        return;
      }
      break;
  }
  throw Error("reduce: dtype not supported for this op");
}

}  // namespace

ReduceOp ParseReduceOp(const std::string& name) {
  static const std::unordered_map<std::string, ReduceOp> ops = {
      {"Sum", ReduceOp::kSum}, {"Mean", ReduceOp::kMean}, {"Prod", ReduceOp::kProd},
      {"Max", ReduceOp::kMax}, {"Min", ReduceOp::kMin},   {"All", ReduceOp::kAll},
      {"Any", ReduceOp::kAny}, {"ArgMax", ReduceOp::kArgMax}, {"ArgMin", ReduceOp::kArgMin},
  };
  auto it = ops.find(name);
  if (it == ops.end()) throw Error("reduce: unknown op '" + name + "'");
  return it->second;
}

DType ReduceOutputDType(ReduceOp op, DType in) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kProd: return in == DType::kFloat32 ? DType::kFloat32 : DType::kInt32;
    case ReduceOp::kMean: return DType::kFloat32;
    case ReduceOp::kArgMax:
    case ReduceOp::kArgMin: return DType::kInt32;
    default: return in;
  }
}

bool ReduceAcceptsDType(ReduceOp op, DType in) {
  return (op == ReduceOp::kAll || op == ReduceOp::kAny) ? in == DType::kBool : true;
}

void Reduce(ReduceOp op, DType in, const void* x, const Shape& shape, const std::vector<int64_t>& axes,
            void* out) {
  CheckReduceArgs("reduce", op, in, shape, axes);
  switch (in) {
    case DType::kFloat32: RunTyped<float>(op, shape, axes, x, out); break;
    case DType::kInt32: RunTyped<int32_t>(op, shape, axes, x, out); break;
    case DType::kBool: RunTyped<uint8_t>(op, shape, axes, x, out); break;
  }
}

void CheckReduceArgs(const char* what, ReduceOp op, DType in, const Shape& shape, const std::vector<int64_t>& axes) {
  if (shape.size() > static_cast<size_t>(kMaxDims)) {
    throw Error(std::string(what) + ": rank " + std::to_string(shape.size()) + " is above the supported " +
                std::to_string(kMaxDims));
  }
  std::vector<bool> seen(shape.size(), false);
  for (int64_t a : axes) {
    if (a < 0 || a >= static_cast<int64_t>(shape.size()) || seen[a]) {
      throw Error(std::string(what) + ": axes must be distinct and in [0, " + std::to_string(shape.size()) + ")");
    }
    seen[a] = true;
  }
  if (!ReduceAcceptsDType(op, in)) throw Error(std::string(what) + ": dtype " + DTypeName(in) + " not supported");
}

}  // namespace tessera
