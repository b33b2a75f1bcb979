// Run-time ISA clones for the pooling, resize and batch-norm kernels. Each kernel body is a
// struct with an always-inline static Run(...); RunRows compiles it twice (baseline and
// AVX2) and ParallelRows splits a row range across the thread pool, calling the clone
// ActiveIsa() allows. The bodies are plain loops over channels (innermost in NHWC) that
// the compiler vectorizes for whichever target it inlines them into.
//
// The AVX2 clone leaves FMA out on purpose: these kernels reproduce tfjs's double
// arithmetic bit for bit, where every product is rounded before the add; a contracted
// multiply-add would not be. (avx512f would enable FMA too, so there is no AVX-512 clone;
// the kernels are bound by memory well before 256-bit vectors run out.)
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "cpu/isa.h"

#define TESSERA_POOL_INLINE inline __attribute__((always_inline))

namespace tessera {
namespace pool_isa {

template <typename Body, typename... Args>
void RunGeneric(int64_t begin, int64_t end, const Args&... args) {
  Body::Run(begin, end, args...);
}

#if TESSERA_X86
template <typename Body, typename... Args>
__attribute__((target("avx2"))) void RunAvx2(int64_t begin, int64_t end, const Args&... args) {
  Body::Run(begin, end, args...);
}
#endif

// Body::Run(begin, end, args...) over [0, rows), `grain` rows at least per task.
template <typename Body, typename... Args>
void ParallelRows(int64_t rows, int64_t grain, const Args&... args) {
#if TESSERA_X86
  const bool avx2 = ActiveIsa() != Isa::kGeneric;
#endif
  ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
#if TESSERA_X86
    if (avx2) {
      RunAvx2<Body>(begin, end, args...);
      return;
    }
#endif
    RunGeneric<Body>(begin, end, args...);
  });
}

// Rows per task so that each task does about `work_per_task` element operations.
inline int64_t GrainFor(int64_t work_per_row, int64_t work_per_task = 1 << 15) {
  if (work_per_row <= 0) return 1;
  int64_t grain = work_per_task / work_per_row;
  return grain < 1 ? 1 : grain;
}

}  // namespace pool_isa
}  // namespace tessera
