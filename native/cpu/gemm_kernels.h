// Internals of the GEMM engine shared by the driver (gemm.cc), the per-ISA kernel files
// (gemm_generic.cc, gemm_avx2.cc, gemm_avx512.cc) and the kernel lab (gemm_lab.cc).
//
// The driver is plain C++ compiled for the baseline target: it blocks, packs and threads.
// Everything that wants wide registers sits behind the function pointers of a KernelSet,
// compiled with the ISA's target attribute, so one binary serves every CPU.
#pragma once
#include <cstdint>

#include "cpu/gemm.h"

namespace tessera {
namespace gemm {

constexpr int kMaxRows = 16;

// C[rows x cols] (= or +=) A_panel * B_panel over kc steps. `a` is a packed A micro-panel
// (kc steps of `mr` floats, rows beyond the matrix zero); `b` holds kc rows of at least nr
// floats, b_stride apart (a packed panel, or B itself when read in place). `rows` is fixed per
// kernel (the table below), so an edge tile costs only the rows it has; cols <= nr.
using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc,
                             int64_t cols, bool add_c);

// The epilogue on the C tile at (row0, col0) of an m x n result, rows x cols, while it is hot.
using TileEpilogue = void (*)(const Epilogue& e, int64_t n, float* c, int64_t ldc, int64_t row0, int64_t col0,
                              int64_t rows, int64_t cols);

// Whole problem without packing, for products too small to repay it.
using SmallGemm = void (*)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                           int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate);

// y[i] (= or +=) sum_p x[p] * M(i, p) for i in [0, count): M(i, p) = mat[i * ld + p] when
// rows_contiguous (dot products), mat[p * ld + i] otherwise (sums of scaled rows). The product
// of a single row or column, where a register tile would waste all but one of its rows.
using Gemv = void (*)(bool rows_contiguous, int64_t count, int64_t k, const float* mat, int64_t ld, const float* x,
                      float* y, bool accumulate);

// Interleaves `rows` source rows (each contiguous along p, ld apart) into a panel `width`
// wide: dst[p * width + j] = src[j * ld + p] for j < rows, 0 for rows <= j < width. This is
// the packing of A when not transposed and of B when transposed: a transpose, which wants
// the ISA's shuffles.
using PackRows = void (*)(const float* src, int64_t ld, int64_t rows, int64_t kc, int width, float* dst);

struct Blocking {
  int64_t kc = 0;  // depth of a packed block: a kc x nr B micro-panel stays in L1
  int64_t mc = 0;  // rows of a packed A block, kept in L2
  int64_t nc = 0;  // columns of a packed B block, shared by the threads
};

struct KernelSet {
  const char* name;
  int mr;
  int nr;
  MicroKernel kernels[kMaxRows];  // kernels[r - 1] computes r rows, 1 <= r <= mr
  TileEpilogue epilogue;
  SmallGemm small;
  Gemv gemv;
  PackRows pack_rows;
  Blocking blocking;
};

const KernelSet& GenericKernels();
// The AVX2 (AVX) transposing pack, shared by the AVX-512 set.
void PackRowsAvx2(const float* src, int64_t ld, int64_t rows, int64_t kc, int width, float* dst);
// nullptr where the architecture has no such ISA (the code is not compiled in).
const KernelSet* Avx2Kernels();
// The production AVX-512 shape; the lab also compares the others.
const KernelSet* Avx512Kernels();
const KernelSet* Avx512Kernels14x32();
const KernelSet* Avx512Kernels8x48();

struct DriverOptions {
  Blocking blocking;          // zero fields: the kernel set's own
  bool allow_shortcuts = true;  // small-problem and gemv paths (the lab turns them off)
};

// The packed, blocked, threaded engine on one kernel set.
void SgemmWith(const KernelSet& ks, const DriverOptions& options, bool trans_a, bool trans_b, int64_t m, int64_t n,
               int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
               bool accumulate, const Epilogue& epilogue);

const KernelSet& KernelsFor(Isa isa);

}  // namespace gemm
}  // namespace tessera
