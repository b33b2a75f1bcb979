// The AVX-512 kernel sets. The production tile is 12 x 32: 24 zmm accumulators, 2 for B and
// the broadcast A value, which leaves registers for the compiler and keeps two FMA pipes
// busy (each k step issues 24 independent FMAs against 2 vector loads and 12 broadcasts).
// The lab (gemm_lab.cc) measures it against 14 x 32 and 8 x 48.
#include "cpu/isa.h"

#if TESSERA_X86
#include <immintrin.h>

#include <algorithm>
#include <utility>

#include "cpu/gemm_kernels.h"
#include "cpu/gemm_loops.h"

namespace tessera {
namespace gemm {
namespace {

template <int kStride, int kRows, int kVecs>
TESSERA_TARGET_AVX512 void Micro(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc,
                                 int64_t cols, bool add_c) {
  // The C tile is only touched after the k loop: start fetching it now.
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kVecs * 16 - 1), _MM_HINT_T0);
  }
  __m512 acc[kRows][kVecs];
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; v++) acc[i][v] = _mm512_setzero_ps();
  }
  for (int64_t p = 0; p < kc; p++) {
    __m512 bv[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; v++) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < kRows; i++) {
      const __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < kVecs; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
    a += kStride;
    b += b_stride;
  }
  __mmask16 masks[kVecs];
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; v++) {
    int64_t lanes = cols - 16 * v;
    masks[v] = lanes >= 16 ? __mmask16(0xFFFF) : lanes <= 0 ? __mmask16(0) : __mmask16((1u << lanes) - 1);
  }
#pragma GCC unroll 16
  for (int i = 0; i < kRows; i++) {
    float* crow = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; v++) {
      __m512 r = acc[i][v];
      if (add_c) r = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], crow + 16 * v), r);
      _mm512_mask_storeu_ps(crow + 16 * v, masks[v], r);
    }
  }
}

// exp in double, 8 lanes: x = k ln2 + r, |r| <= ln2/2, exp(r) by its Taylor series, times 2^k
// by vscalefpd (which also rounds underflow and overflow correctly). NaN stays NaN. The
// zero-masked forms (mask all ones) are the plain operations; GCC 12 reports its own
// undefined-register idiom inside the unmasked ones as maybe-uninitialized.
constexpr __mmask8 kAll8 = 0xFF;

TESSERA_TARGET_AVX512 inline __m512d ExpPd(__m512d x) {
  // min/max return their second operand for a NaN: x goes second to carry it through.
  x = _mm512_maskz_max_pd(kAll8, _mm512_set1_pd(kExpMin), _mm512_maskz_min_pd(kAll8, _mm512_set1_pd(kExpMax), x));
  const __m512d k = _mm512_maskz_roundscale_pd(kAll8, _mm512_mul_pd(x, _mm512_set1_pd(kLog2e)),
                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(kLn2Hi), x);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(kLn2Lo), r);
  __m512d p = _mm512_set1_pd(kExpTaylor[13]);
  for (int i = 12; i >= 0; i--) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(kExpTaylor[i]));
  return _mm512_maskz_scalef_pd(kAll8, p, k);
}

TESSERA_TARGET_AVX512 inline __m512d ExpActivationPd(Activation act, __m512d v) {
  if (act == Activation::kElu) {
    const __m512d em1 = _mm512_sub_pd(ExpPd(v), _mm512_set1_pd(1.0));
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_GE_OQ), em1, v);
  }
  const __m512d one = _mm512_set1_pd(1.0);
  return _mm512_div_pd(one, _mm512_add_pd(one, ExpPd(_mm512_sub_pd(_mm512_setzero_pd(), v))));
}

struct Avx512ExpRows {
  TESSERA_TARGET_AVX512 static void Apply(Activation act, float* row, int64_t cols) {
    for (int64_t j = 0; j < cols; j += 16) {
      const int64_t lanes = std::min<int64_t>(16, cols - j);
      const __mmask16 mask = lanes == 16 ? __mmask16(0xFFFF) : __mmask16((1u << lanes) - 1);
      // Two halves of 8 through double precision.
      const __m512 x = _mm512_maskz_loadu_ps(mask, row + j);
      const __m256 x_lo = _mm512_maskz_extractf32x8_ps(kAll8, x, 0);
      const __m256 x_hi = _mm512_maskz_extractf32x8_ps(kAll8, x, 1);
      const __m256 y_lo = _mm512_maskz_cvtpd_ps(kAll8, ExpActivationPd(act, _mm512_maskz_cvtps_pd(kAll8, x_lo)));
      const __m256 y_hi = _mm512_maskz_cvtpd_ps(kAll8, ExpActivationPd(act, _mm512_maskz_cvtps_pd(kAll8, x_hi)));
      const __m512 y = _mm512_maskz_insertf32x8(__mmask16(0xFFFF), _mm512_castps256_ps512(y_lo), y_hi, 1);
      _mm512_mask_storeu_ps(row + j, mask, y);
    }
  }
};

// Bias (one row of it) and relu / relu6 or nothing, in registers: the common conv and dense
// epilogue. The generic body pays a switch and loop set-up per row, which on a small-K conv
// tile (12 x 32 outputs of 9 multiply-adds each) costs as much as the tile itself. Same
// rounding as the body: the bias add is one float add, relu keeps NaN and turns -0 into +0.
TESSERA_TARGET_AVX512 bool FastEpilogue(const Epilogue& e, float* c, int64_t ldc, int64_t col0, int64_t rows,
                                        int64_t cols) {
  const bool relu = e.activation == Activation::kRelu, relu6 = e.activation == Activation::kRelu6;
  if ((e.bias != nullptr && e.bias_per_element) || !(relu || relu6 || e.activation == Activation::kNone)) return false;
  const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
  for (int64_t j = 0; j < cols; j += 16) {
    const int64_t lanes = std::min<int64_t>(16, cols - j);
    const __mmask16 mask = lanes == 16 ? __mmask16(0xFFFF) : __mmask16((1u << lanes) - 1);
    const __m512 bias = e.bias != nullptr ? _mm512_maskz_loadu_ps(mask, e.bias + col0 + j) : zero;
    for (int64_t i = 0; i < rows; i++) {
      float* p = c + i * ldc + j;
      __m512 v = _mm512_maskz_loadu_ps(mask, p);
      if (e.bias != nullptr) v = _mm512_add_ps(v, bias);
      if (relu || relu6) v = _mm512_maskz_mov_ps(~_mm512_cmp_ps_mask(v, zero, _CMP_LE_OQ), v);
      if (relu6) v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, six, _CMP_GT_OQ), six);
      _mm512_mask_storeu_ps(p, mask, v);
    }
  }
  return true;
}

TESSERA_TARGET_AVX512 void Epilogue_(const Epilogue& e, int64_t n, float* c, int64_t ldc, int64_t row0, int64_t col0,
                                     int64_t rows, int64_t cols) {
  if (FastEpilogue(e, c, ldc, col0, rows, cols)) return;
  EpilogueBody<Avx512ExpRows>(e, n, c, ldc, row0, col0, rows, cols);
}

TESSERA_TARGET_AVX512 void Small(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                                 int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  SmallGemmBody(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

TESSERA_TARGET_AVX512 void Gemv_(bool rows_contiguous, int64_t count, int64_t k, const float* mat, int64_t ld,
                                 const float* x, float* y, bool accumulate) {
  GemvBody<64>(rows_contiguous, count, k, mat, ld, x, y, accumulate);
}

template <int kMr, int kVecs, int... R>
KernelSet Make(const char* name, Blocking blocking, std::integer_sequence<int, R...>) {
  return KernelSet{name,   kMr,    16 * kVecs, {&Micro<kMr, R + 1, kVecs>...}, &Epilogue_, &Small, &Gemv_,
                   &PackRowsAvx2, blocking};
}

}  // namespace

const KernelSet* Avx512Kernels() {
  static const KernelSet set = Make<12, 2>("avx512 12x32", Blocking{256, 192, 4096}, std::make_integer_sequence<int, 12>());
  return &set;
}

const KernelSet* Avx512Kernels14x32() {
  static const KernelSet set = Make<14, 2>("avx512 14x32", Blocking{256, 196, 4096}, std::make_integer_sequence<int, 14>());
  return &set;
}

const KernelSet* Avx512Kernels8x48() {
  static const KernelSet set = Make<8, 3>("avx512 8x48", Blocking{256, 192, 4080}, std::make_integer_sequence<int, 8>());
  return &set;
}

}  // namespace gemm
}  // namespace tessera

#else

#include "cpu/gemm_kernels.h"

namespace tessera {
namespace gemm {
const KernelSet* Avx512Kernels() { return nullptr; }
const KernelSet* Avx512Kernels14x32() { return nullptr; }
const KernelSet* Avx512Kernels8x48() { return nullptr; }
}  // namespace gemm
}  // namespace tessera

#endif
