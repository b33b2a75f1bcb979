// Variants of the kernel lab (see gemm_lab.h for the list and how to run them).
#include "cpu/gemm_lab.h"

#include <algorithm>

#include "core/errors.h"
#include "cpu/gemm_kernels.h"
#include "cpu/isa.h"

namespace tessera {
namespace {

struct Operands {
  bool trans_a, trans_b;
  int64_t m, n, k;
  const float* a;
  const float* b;
  float* c;
  // Tight leading dimensions of the stored (possibly transposed) matrices.
  int64_t lda() const { return trans_a ? m : k; }
  int64_t ldb() const { return trans_b ? k : n; }
  float A(int64_t i, int64_t p) const { return trans_a ? a[p * m + i] : a[i * k + p]; }
  float B(int64_t p, int64_t j) const { return trans_b ? b[j * k + p] : b[p * n + j]; }
};

void Naive(const Operands& o) {
  for (int64_t i = 0; i < o.m; i++) {
    for (int64_t j = 0; j < o.n; j++) {
      float sum = 0.0f;
      for (int64_t p = 0; p < o.k; p++) sum += o.A(i, p) * o.B(p, j);
      o.c[i * o.n + j] = sum;
    }
  }
}

// Blocks of C rows x depth so that a block of B rows is reused from cache by every row of
// the block; the innermost loop runs along a row of B (contiguous unless B is transposed).
void Blocked(const Operands& o) {
  constexpr int64_t kRows = 64;
  constexpr int64_t kDepth = 256;
  std::fill(o.c, o.c + o.m * o.n, 0.0f);
  for (int64_t i0 = 0; i0 < o.m; i0 += kRows) {
    const int64_t i1 = std::min(o.m, i0 + kRows);
    for (int64_t p0 = 0; p0 < o.k; p0 += kDepth) {
      const int64_t p1 = std::min(o.k, p0 + kDepth);
      for (int64_t i = i0; i < i1; i++) {
        float* __restrict crow = o.c + i * o.n;
        for (int64_t p = p0; p < p1; p++) {
          const float av = o.A(i, p);
          if (o.trans_b) {
            for (int64_t j = 0; j < o.n; j++) crow[j] += av * o.b[j * o.k + p];
          } else {
            const float* __restrict brow = o.b + p * o.n;
            for (int64_t j = 0; j < o.n; j++) crow[j] += av * brow[j];
          }
        }
      }
    }
  }
}

struct Entry {
  const char* name;
  Isa isa;
  const gemm::KernelSet* (*kernels)();
};

const gemm::KernelSet* Generic() { return &gemm::GenericKernels(); }

const Entry kEntries[] = {
    {"naive", Isa::kGeneric, nullptr},
    {"blocked", Isa::kGeneric, nullptr},
    {"packed-generic", Isa::kGeneric, &Generic},
    {"packed-avx2", Isa::kAvx2, &gemm::Avx2Kernels},
    {"packed-avx512", Isa::kAvx512, &gemm::Avx512Kernels},
    {"packed-avx512-14x32", Isa::kAvx512, &gemm::Avx512Kernels14x32},
    {"packed-avx512-8x48", Isa::kAvx512, &gemm::Avx512Kernels8x48},
    {"engine", Isa::kGeneric, nullptr},
};
constexpr int kVariants = sizeof(kEntries) / sizeof(kEntries[0]);

bool Available(const Entry& e) {
  return static_cast<int>(e.isa) <= static_cast<int>(ActiveIsa()) && (e.kernels == nullptr || e.kernels() != nullptr);
}

}  // namespace

std::vector<GemmLabVariant> GemmLabVariants() {
  std::vector<GemmLabVariant> out;
  for (const Entry& e : kEntries) out.push_back({e.name, Available(e)});
  return out;
}

void GemmLab(int variant, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
             float* c, int64_t kc, int64_t mc, int64_t nc) {
  if (variant < 0 || variant >= kVariants || !Available(kEntries[variant])) {
    ThrowArgError("gemmLab", "variant", "one of the available variants 0.." + std::to_string(kVariants - 1),
                  std::to_string(variant));
  }
  Operands o{trans_a, trans_b, m, n, k, a, b, c};
  const Entry& e = kEntries[variant];
  if (variant == 0) {
    Naive(o);
  } else if (variant == 1) {
    Blocked(o);
  } else if (e.kernels != nullptr) {
    gemm::DriverOptions options;
    options.blocking = gemm::Blocking{kc, mc, nc};
    options.allow_shortcuts = false;
    gemm::SgemmWith(*e.kernels(), options, trans_a, trans_b, m, n, k, a, o.lda(), b, o.ldb(), c, n, false,
                    Epilogue());
  } else {
    Sgemm(trans_a, trans_b, m, n, k, a, o.lda(), b, o.ldb(), c, n);
  }
}

}  // namespace tessera
