// Run-time ISA dispatch. The addon is compiled for baseline x86-64 (or the generic target
// elsewhere); kernels with wider paths mark those functions with target attributes and pick
// one through these queries, so one binary runs on any CPU of the architecture.
#pragma once

namespace tessera {

enum class Isa { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };

// The widest ISA both the CPU supports and TESSERA_ISA (generic|avx2|avx512) allows.
Isa ActiveIsa();
const char* IsaName(Isa isa);

}  // namespace tessera

#if defined(__x86_64__) || defined(_M_X64)
#define TESSERA_X86 1
#define TESSERA_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TESSERA_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#else
#define TESSERA_X86 0
#endif
