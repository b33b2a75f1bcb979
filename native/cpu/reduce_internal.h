// Pieces shared by the reduce family's .cc files: strided walks and per-ISA instantiation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "cpu/isa.h"
#include "cpu/reduce.h"

#define TESSERA_INLINE inline __attribute__((always_inline))
// Lambdas inside kernel bodies must inline into the per-ISA copies: an out-of-line lambda
// would be compiled for the baseline ISA only.
#define TESSERA_LAMBDA_INLINE __attribute__((always_inline))

namespace tessera {

// The largest rank the reduce family takes (the odometer keeps its digits on the stack).
constexpr int kMaxDims = 64;

// One dimension of a strided walk.
struct Dim {
  int64_t size;
  int64_t stride;
};

// Calls f(offset) for the flattened positions [begin, end) of the row-major walk over
// `dims` (outermost first), offsets starting from `base`. With no dims there is one
// position, 0.
template <class F>
TESSERA_INLINE void ForEachOffset(const Dim* dims, int n, int64_t base, int64_t begin, int64_t end, F&& f) {
  if (begin >= end) return;
  int64_t idx[kMaxDims];
  int64_t off = base;
  int64_t rem = begin;
  for (int d = n - 1; d >= 0; d--) {
    idx[d] = rem % dims[d].size;
    rem /= dims[d].size;
    off += idx[d] * dims[d].stride;
  }
  for (int64_t i = begin;;) {
    f(off);
    if (++i == end) return;
    for (int d = n - 1; d >= 0; d--) {
      off += dims[d].stride;
      if (++idx[d] < dims[d].size) break;
      off -= dims[d].stride * dims[d].size;
      idx[d] = 0;
    }
  }
}

// Validates axes (distinct, in range), rank and dtype; throws naming `what`.
void CheckReduceArgs(const char* what, ReduceOp op, DType in, const Shape& shape, const std::vector<int64_t>& axes);

}  // namespace tessera

// Instantiates NAME##Body<P> (an always-inline template) once per ISA and defines NAME<P>,
// which picks the widest copy the CPU runs for policies marked kWide and the baseline copy
// for the others (whose loops do not vectorize anyway).
#if TESSERA_X86
#define TESSERA_ISA_VARIANTS(NAME, RET, PARAMS, ARGS)                                           \
  template <class P>                                                                           \
  RET NAME##Generic PARAMS {                                                                   \
    return NAME##Body<P> ARGS;                                                                 \
  }                                                                                            \
  template <class P>                                                                           \
  TESSERA_TARGET_AVX2 RET NAME##Avx2 PARAMS {                                                  \
    return NAME##Body<P> ARGS;                                                                 \
  }                                                                                            \
  template <class P>                                                                           \
  TESSERA_TARGET_AVX512 RET NAME##Avx512 PARAMS {                                              \
    return NAME##Body<P> ARGS;                                                                 \
  }                                                                                            \
  template <class P>                                                                           \
  RET NAME PARAMS {                                                                            \
    if constexpr (P::kWide) {                                                                  \
      switch (ActiveIsa()) {                                                                   \
        case Isa::kAvx512: return NAME##Avx512<P> ARGS;                                        \
        case Isa::kAvx2: return NAME##Avx2<P> ARGS;                                            \
        default: break;                                                                        \
      }                                                                                        \
    }                                                                                          \
    return NAME##Generic<P> ARGS;                                                              \
  }
#else
#define TESSERA_ISA_VARIANTS(NAME, RET, PARAMS, ARGS) \
  template <class P>                                  \
  RET NAME PARAMS {                                   \
    return NAME##Body<P> ARGS;                        \
  }
#endif
