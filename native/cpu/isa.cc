#include "cpu/isa.h"

#include <cstdlib>
#include <cstring>

namespace tessera {
namespace {

Isa DetectIsa() {
  Isa best = Isa::kGeneric;
#if TESSERA_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Isa::kAvx2;
  if (best == Isa::kAvx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) best = Isa::kAvx512;
#endif
  // A cap from the environment lets tests and benchmarks exercise the narrower paths.
  if (const char* cap = std::getenv("TESSERA_ISA")) {
    Isa limit = std::strcmp(cap, "generic") == 0 ? Isa::kGeneric
                : std::strcmp(cap, "avx2") == 0  ? Isa::kAvx2
                                                 : Isa::kAvx512;
    if (static_cast<int>(limit) < static_cast<int>(best)) best = limit;
  }
  return best;
}

}  // namespace

Isa ActiveIsa() {
  static const Isa isa = DetectIsa();
  return isa;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "generic";
  }
}

}  // namespace tessera
