// AVX2 tile kernels of the direct convolution engine (see conv_kernels.h): 8 lanes and 16
// ymm registers, so tiles of at most 12 accumulators.
#include "cpu/isa.h"

#if TESSERA_X86
#include <immintrin.h>

#include <utility>

#include "cpu/conv_kernels.h"

namespace tessera {
namespace conv {
namespace {

template <int kRows, int kVecs, bool kContiguous, bool kMasked, typename Seg>
TESSERA_TARGET_AVX2 inline __attribute__((always_inline)) void Reduce(int64_t segments, const Seg* seg,
                                                                      int64_t a_step, int64_t b_step,
                                                                      const __m256i* masks, __m256 (&acc)[kRows][kVecs]) {
  for (int64_t s = 0; s < segments; s++) {
    const float* a[kContiguous ? 1 : kRows];
    if constexpr (kContiguous) {
      a[0] = seg[s].a;
    } else {
#pragma GCC unroll 16
      for (int i = 0; i < kRows; i++) a[i] = seg[s].a[i];
    }
    const float* b = seg[s].b;
    for (int64_t j = seg[s].len; j > 0; j--) {
      __m256 bv[kVecs];
#pragma GCC unroll 4
      for (int v = 0; v < kVecs; v++) bv[v] = kMasked ? _mm256_maskload_ps(b + 8 * v, masks[v]) : _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 16
      for (int i = 0; i < kRows; i++) {
        const __m256 av = _mm256_broadcast_ss(kContiguous ? a[0] + i : a[i]);
#pragma GCC unroll 4
        for (int v = 0; v < kVecs; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
      }
      if constexpr (kContiguous) {
        a[0] += a_step;
      } else {
#pragma GCC unroll 16
        for (int i = 0; i < kRows; i++) a[i] += a_step;
      }
      b += b_step;
    }
  }
}

// The tile, stored to rows ldc apart from c, or (kRowPointers) added into c_rows[i].
template <int kRows, int kVecs, bool kContiguous, bool kRowPointers, typename Seg>
TESSERA_TARGET_AVX2 inline __attribute__((always_inline)) void TileBody(
    int64_t segments, const Seg* seg, int64_t a_step, int64_t b_step, float* c, float* const* c_rows, int64_t ldc,
    int64_t rows, int64_t cols, bool accumulate) {
  __m256i masks[kVecs];
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; v++) {
    const int64_t lanes = std::max<int64_t>(0, std::min<int64_t>(cols - 8 * v, 8));
    masks[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lanes)), lane);
  }
  __m256 acc[kRows][kVecs];
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; v++) acc[i][v] = _mm256_setzero_ps();
  }
  if (cols >= 8 * kVecs) {
    Reduce<kRows, kVecs, kContiguous, false>(segments, seg, a_step, b_step, masks, acc);
  } else {
    Reduce<kRows, kVecs, kContiguous, true>(segments, seg, a_step, b_step, masks, acc);
  }
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
    if (i >= rows) break;
    float* crow = kRowPointers ? c_rows[i] : c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; v++) {
      __m256 r = acc[i][v];
      if (accumulate) r = _mm256_add_ps(_mm256_maskload_ps(crow + 8 * v, masks[v]), r);
      _mm256_maskstore_ps(crow + 8 * v, masks[v], r);
    }
  }
}

template <int kRows, int kVecs, bool kContiguous, typename Seg>
TESSERA_TARGET_AVX2 void Tile(int64_t segments, const Seg* seg, int64_t a_step, int64_t b_step, float* c,
                              int64_t ldc, int64_t rows, int64_t cols, bool accumulate) {
  TileBody<kRows, kVecs, kContiguous, false>(segments, seg, a_step, b_step, c, nullptr, ldc, rows, cols, accumulate);
}

template <int kRows, int kVecs>
TESSERA_TARGET_AVX2 void Scatter(int64_t segments, const Segment* seg, int64_t a_step, int64_t b_step,
                                 float* const* c_rows, int64_t rows, int64_t cols) {
  TileBody<kRows, kVecs, false, true>(segments, seg, a_step, b_step, nullptr, c_rows, 0, rows, cols, true);
}

template <int kRows, int kVecs>
constexpr TileShape Shape() {
  return {kRows, 8 * kVecs, &Tile<kRows, kVecs, false, Segment>, &Tile<kRows, kVecs, true, Stream>,
          &Scatter<kRows, kVecs>};
}

const TileShape kShapes[] = {Shape<6, 2>(), Shape<4, 3>(), Shape<3, 4>(), Shape<12, 1>()};

// Depthwise: 4 doubles per vector; 16 registers hold the filter gradient's accumulators for
// up to 4 taps.
struct Vec {
  using D = __m256d;
  static constexpr int kLanes = 4;
  TESSERA_TARGET_AVX2 static inline __attribute__((always_inline)) __m128i Mask32(int64_t n) {
    return _mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(n)), _mm_setr_epi32(0, 1, 2, 3));
  }
  TESSERA_TARGET_AVX2 static inline __attribute__((always_inline)) D Zero() { return _mm256_setzero_pd(); }
  TESSERA_TARGET_AVX2 static inline __attribute__((always_inline)) D Load(const float* p, int64_t n) {
    return _mm256_cvtps_pd(n == 4 ? _mm_loadu_ps(p) : _mm_maskload_ps(p, Mask32(n)));
  }
  TESSERA_TARGET_AVX2 static inline __attribute__((always_inline)) D LoadD(const double* p, int64_t n) {
    if (n == 4) return _mm256_loadu_pd(p);
    return _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)));
  }
  TESSERA_TARGET_AVX2 static inline __attribute__((always_inline)) void Store(float* p, int64_t n, D v) {
    const __m128 f = _mm256_cvtpd_ps(v);
    if (n == 4) {
      _mm_storeu_ps(p, f);
    } else {
      _mm_maskstore_ps(p, Mask32(n), f);
    }
  }
  TESSERA_TARGET_AVX2 static inline __attribute__((always_inline)) D Fma(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
  TESSERA_TARGET_AVX2 static inline __attribute__((always_inline)) D RoundToFloat(D v) {
    return _mm256_cvtps_pd(_mm256_cvtpd_ps(v));
  }
};

#define TESSERA_DEPTHWISE_TARGET TESSERA_TARGET_AVX2
#include "cpu/conv_depthwise_body.h"
#undef TESSERA_DEPTHWISE_TARGET

}  // namespace

const DepthwiseKernels* Avx2Depthwise() {
  static const DepthwiseKernels kernels = MakeDepthwise("avx2", std::make_integer_sequence<int, 4>());
  return &kernels;
}

const TileSet* Avx2Tiles() {
  static const TileSet set{"avx2", Isa::kAvx2, 8, 8, kShapes, static_cast<int>(sizeof(kShapes) / sizeof(kShapes[0]))};
  return &set;
}

}  // namespace conv
}  // namespace tessera

#else

#include "cpu/conv_kernels.h"

namespace tessera {
namespace conv {
const TileSet* Avx2Tiles() { return nullptr; }
const DepthwiseKernels* Avx2Depthwise() { return nullptr; }
}  // namespace conv
}  // namespace tessera

#endif
