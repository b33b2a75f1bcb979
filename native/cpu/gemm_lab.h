// The GEMM kernel lab: the stages of the engine kept side by side, so that each step of the
// optimization can be re-measured on any machine and checked against SgemmRef.
//
//   0 naive            i-j-p triple loop, one dot product per element of C
//   1 blocked          cache-blocked i-p-j loops over the unpacked operands (compiler-vectorized)
//   2 packed-generic   the engine's driver on the portable 4x8 kernel set (plain C++)
//   3 packed-avx2      the driver on the AVX2+FMA 6x16 intrinsics kernels
//   4 packed-avx512    the driver on the AVX-512 12x32 kernels (the production choice)
//   5 packed-avx512-14x32  the driver on AVX-512 14x32 tiles (28 accumulators)
//   6 packed-avx512-8x48   the driver on AVX-512 8x48 tiles (3 vectors per row)
//   7 engine           Sgemm itself: the ISA's kernels plus the small-product and gemv shortcuts
//
// Variants 2-6 run the packed path on every size (no shortcuts), with optional KC/MC/NC
// overrides to tune the blocking. Run them all with
//   node bench/gemm_lab.mjs [--sizes 256,512,1024] [--threads 2] [--variants 3,4,7] [--kc 256 --mc 192 --nc 4096]
// which checks each variant against SgemmRef and prints the median GFLOP/s.
//
// Measured on the 2-core AVX-512 development machine (AMD Zen 5, peak about 475 GFLOP/s on
// two cores), GFLOP/s at 512^3 / 1024^3:
//   1 thread:  naive 1.7 / 0.6, blocked 22.5 / 25.2, packed-generic 43 / 43, packed-avx2 128 / 122,
//              packed-avx512 253 / 230 (14x32 and 8x48 within noise of it), engine 257 / 234
//   2 threads: packed-generic 79 / 73, packed-avx2 223 / 235, packed-avx512 419 / 446, engine 435 / 437
// KC from 192 to 512 and MC from 96 to 384 measured within noise of each other; KC 128 lost
// about 10%. The machine is shared, so single runs vary by 10-20%.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

struct GemmLabVariant {
  std::string name;
  bool available;  // its ISA is within ActiveIsa()
};

std::vector<GemmLabVariant> GemmLabVariants();

// C (m x n, row-major, tight) = op(A) * op(B) with the given variant; kc/mc/nc of 0 keep the
// variant's own blocking. Throws for an unknown or unavailable variant.
void GemmLab(int variant, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
             float* c, int64_t kc, int64_t mc, int64_t nc);

}  // namespace tessera
