// Placeholder engine: the reference. The optimized, packed, threaded GEMM replaces this file.
#include "cpu/gemm.h"

namespace tessera {

void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate, const Epilogue& epilogue) {
  SgemmRef(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, epilogue);
}

}  // namespace tessera
