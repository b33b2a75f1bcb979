// The portable kernel set: plain C++ compiled for the baseline target (SSE2 on x86-64, NEON
// on arm64), correct on any CPU, and the only one on architectures without the x86 paths.
#include <utility>

#include "cpu/gemm_kernels.h"
#include "cpu/gemm_loops.h"

namespace tessera {
namespace gemm {
namespace {

// 4 x 8: 8 four-wide accumulators. The lab measured 43 GFLOP/s (SSE2, one thread) against 39
// for 8 x 8 and 32 for 6 x 8 and 4 x 12, where the compiler runs out of the 16 SSE registers.
constexpr int kMr = 4;
constexpr int kNr = 8;

template <int kRows>
void Micro(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc, int64_t cols,
           bool add_c) {
  PortableMicroBody<kMr, kRows, kNr>(kc, a, b, b_stride, c, ldc, cols, add_c);
}

void Epilogue_(const Epilogue& e, int64_t n, float* c, int64_t ldc, int64_t row0, int64_t col0, int64_t rows,
               int64_t cols) {
  EpilogueBody(e, n, c, ldc, row0, col0, rows, cols);
}

void Small(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  SmallGemmBody(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void Gemv_(bool rows_contiguous, int64_t count, int64_t k, const float* mat, int64_t ld, const float* x, float* y,
           bool accumulate) {
  GemvBody<8>(rows_contiguous, count, k, mat, ld, x, y, accumulate);
}

void PackRows_(const float* src, int64_t ld, int64_t rows, int64_t kc, int width, float* dst) {
  PackRowsBody(src, ld, rows, kc, width, dst);
}

template <int... R>
KernelSet Make(std::integer_sequence<int, R...>) {
  return KernelSet{"generic 4x8", kMr, kNr, {&Micro<R + 1>...}, &Epilogue_, &Small, &Gemv_, &PackRows_,
                   Blocking{256, 96, 4096}};
}

}  // namespace

const KernelSet& GenericKernels() {
  static const KernelSet set = Make(std::make_integer_sequence<int, kMr>());
  return set;
}

}  // namespace gemm
}  // namespace tessera
