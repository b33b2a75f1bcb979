// AVX-512 tile kernels of the direct convolution engine (see conv_kernels.h).
#include "cpu/isa.h"

#if TESSERA_X86
#include <immintrin.h>

#include <utility>

#include "cpu/conv_kernels.h"

namespace tessera {
namespace conv {
namespace {

// The reduction over the segments, one register tile. Rows read through pointers of their
// own (kContiguous: row i reads a + i, one pointer for all). Masked B loads only on the
// last, narrower column panel: the full ones keep the mask registers out of the loop.
template <int kRows, int kVecs, bool kContiguous, bool kMasked, typename Seg>
TESSERA_TARGET_AVX512 inline __attribute__((always_inline)) void Reduce(int64_t segments, const Seg* seg,
                                                                        int64_t a_step, int64_t b_step,
                                                                        const __mmask16* masks, __m512 (&acc)[kRows][kVecs]) {
  for (int64_t s = 0; s < segments; s++) {
    const float* a[kContiguous ? 1 : kRows];
    if constexpr (kContiguous) {
      a[0] = seg[s].a;
    } else {
#pragma GCC unroll 32
      for (int i = 0; i < kRows; i++) a[i] = seg[s].a[i];
    }
    const float* b = seg[s].b;
    for (int64_t j = seg[s].len; j > 0; j--) {
      __m512 bv[kVecs];
#pragma GCC unroll 4
      for (int v = 0; v < kVecs; v++) {
        bv[v] = kMasked ? _mm512_maskz_loadu_ps(masks[v], b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
      }
#pragma GCC unroll 32
      for (int i = 0; i < kRows; i++) {
        const __m512 av = _mm512_set1_ps(kContiguous ? a[0][i] : *a[i]);
#pragma GCC unroll 4
        for (int v = 0; v < kVecs; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
      }
      if constexpr (kContiguous) {
        a[0] += a_step;
      } else {
#pragma GCC unroll 32
        for (int i = 0; i < kRows; i++) a[i] += a_step;
      }
      b += b_step;
    }
  }
}

// The tile, stored to rows ldc apart from c, or (kRowPointers) added into c_rows[i].
template <int kRows, int kVecs, bool kContiguous, bool kRowPointers, typename Seg>
TESSERA_TARGET_AVX512 inline __attribute__((always_inline)) void TileBody(
    int64_t segments, const Seg* seg, int64_t a_step, int64_t b_step, float* c, float* const* c_rows, int64_t ldc,
    int64_t rows, int64_t cols, bool accumulate) {
  __mmask16 masks[kVecs];
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; v++) {
    int64_t lanes = cols - 16 * v;
    masks[v] = lanes >= 16 ? __mmask16(0xFFFF) : lanes <= 0 ? __mmask16(0) : __mmask16((1u << lanes) - 1);
  }
  __m512 acc[kRows][kVecs];
#pragma GCC unroll 32
  for (int i = 0; i < kRows; i++) {
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; v++) acc[i][v] = _mm512_setzero_ps();
  }
  if (cols >= 16 * kVecs) {
    Reduce<kRows, kVecs, kContiguous, false>(segments, seg, a_step, b_step, masks, acc);
  } else {
    Reduce<kRows, kVecs, kContiguous, true>(segments, seg, a_step, b_step, masks, acc);
  }
#pragma GCC unroll 32
  for (int i = 0; i < kRows; i++) {
    if (i >= rows) break;
    float* crow = kRowPointers ? c_rows[i] : c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; v++) {
      __m512 r = acc[i][v];
      if (accumulate) r = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], crow + 16 * v), r);
      _mm512_mask_storeu_ps(crow + 16 * v, masks[v], r);
    }
  }
}

template <int kRows, int kVecs, bool kContiguous, typename Seg>
TESSERA_TARGET_AVX512 void Tile(int64_t segments, const Seg* seg, int64_t a_step, int64_t b_step, float* c,
                                int64_t ldc, int64_t rows, int64_t cols, bool accumulate) {
  TileBody<kRows, kVecs, kContiguous, false>(segments, seg, a_step, b_step, c, nullptr, ldc, rows, cols, accumulate);
}

template <int kRows, int kVecs>
TESSERA_TARGET_AVX512 void Scatter(int64_t segments, const Segment* seg, int64_t a_step, int64_t b_step,
                                   float* const* c_rows, int64_t rows, int64_t cols) {
  TileBody<kRows, kVecs, false, true>(segments, seg, a_step, b_step, nullptr, c_rows, 0, rows, cols, true);
}

template <int kRows, int kVecs>
constexpr TileShape Shape() {
  return {kRows, 16 * kVecs, &Tile<kRows, kVecs, false, Segment>, &Tile<kRows, kVecs, true, Stream>,
          &Scatter<kRows, kVecs>};
}

// By preference: 6 x 64 and 14 x 32 measured best (24 and 28 accumulators; 6 x 64 keeps all
// its row pointers in registers). 8 x 32 serves the backprop filter's output channel rows.
const TileShape kShapes[] = {
    Shape<6, 4>(), Shape<14, 2>(), Shape<8, 2>(), Shape<12, 2>(), Shape<8, 3>(), Shape<4, 4>(),
};

// Depthwise: 8 doubles per vector. Floats move through ymm registers (AVX masked loads and
// stores: the 512-bit casts of GCC 12 read an undefined register it then warns about), and
// the zero-masked conversions stand in for the plain ones for the same reason.
struct Vec {
  using D = __m512d;
  static constexpr int kLanes = 8;
  TESSERA_TARGET_AVX512 static inline __attribute__((always_inline)) __m256i Mask32(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  TESSERA_TARGET_AVX512 static inline __attribute__((always_inline)) D Zero() { return _mm512_setzero_pd(); }
  TESSERA_TARGET_AVX512 static inline __attribute__((always_inline)) D Load(const float* p, int64_t n) {
    return _mm512_maskz_cvtps_pd(0xFF, n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, Mask32(n)));
  }
  TESSERA_TARGET_AVX512 static inline __attribute__((always_inline)) D LoadD(const double* p, int64_t n) {
    return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p);
  }
  TESSERA_TARGET_AVX512 static inline __attribute__((always_inline)) void Store(float* p, int64_t n, D v) {
    const __m256 f = _mm512_maskz_cvtpd_ps(0xFF, v);
    if (n == 8) {
      _mm256_storeu_ps(p, f);
    } else {
      _mm256_maskstore_ps(p, Mask32(n), f);
    }
  }
  TESSERA_TARGET_AVX512 static inline __attribute__((always_inline)) D Fma(D a, D b, D c) {
    return _mm512_fmadd_pd(a, b, c);
  }
  TESSERA_TARGET_AVX512 static inline __attribute__((always_inline)) D RoundToFloat(D v) {
    return _mm512_maskz_cvtps_pd(0xFF, _mm512_maskz_cvtpd_ps(0xFF, v));
  }
};

#define TESSERA_DEPTHWISE_TARGET TESSERA_TARGET_AVX512
#include "cpu/conv_depthwise_body.h"
#undef TESSERA_DEPTHWISE_TARGET

}  // namespace

const DepthwiseKernels* Avx512Depthwise() {
  static const DepthwiseKernels kernels = MakeDepthwise("avx512", std::make_integer_sequence<int, 9>());
  return &kernels;
}

const TileSet* Avx512Tiles() {
  static const TileSet set{"avx512", Isa::kAvx512, 16, 16, kShapes, static_cast<int>(sizeof(kShapes) / sizeof(kShapes[0]))};
  return &set;
}

}  // namespace conv
}  // namespace tessera

#else

#include "cpu/conv_kernels.h"

namespace tessera {
namespace conv {
const TileSet* Avx512Tiles() { return nullptr; }
const DepthwiseKernels* Avx512Depthwise() { return nullptr; }
}  // namespace conv
}  // namespace tessera

#endif
