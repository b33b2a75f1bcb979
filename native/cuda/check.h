// The one check for CUDA runtime calls: a failed call throws tessera::Error naming the call,
// the error and the source line, and the binding Guard turns that into a JS error. Kernel
// launches are followed by TESSERA_CUDA_CHECK_LAUNCH(), which reports bad launch
// configurations at once; faults inside a kernel surface at the next synchronizing call
// (a download or a sync), which is checked the same way.
#pragma once
#include <cuda_runtime.h>

#include "core/errors.h"

namespace tessera {

[[noreturn]] void ThrowCudaError(cudaError_t err, const char* expr, const char* file, int line);

}  // namespace tessera

#define TESSERA_CUDA_CHECK(expr)                                                        \
  do {                                                                                  \
    const cudaError_t tessera_cuda_err_ = (expr);                                       \
    if (tessera_cuda_err_ != cudaSuccess)                                               \
      ::tessera::ThrowCudaError(tessera_cuda_err_, #expr, __FILE__, __LINE__);          \
  } while (0)

#define TESSERA_CUDA_CHECK_LAUNCH() TESSERA_CUDA_CHECK(cudaGetLastError())
