#include "cuda/context.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

namespace tessera {

CudaProbe ProbeCuda() {
  CudaProbe probe;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    // The runtime reports a missing driver as an "insufficient" one; say which it is.
    void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (driver == nullptr) driver = dlopen("libcuda.so.1", RTLD_LAZY);
    if (driver == nullptr) {
      probe.reason = "no CUDA device: no NVIDIA driver is installed (libcuda.so.1 cannot be loaded)";
      cudaGetLastError();
      return probe;
    }
    dlclose(driver);
    probe.reason = std::string("no CUDA device: ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
    cudaGetLastError();
    return probe;
  }
  if (count == 0) {
    probe.reason = "no CUDA device: the driver reports 0 devices";
    return probe;
  }
  for (int i = 0; i < count; i++) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    probe.devices.push_back(CudaDeviceInfo{prop.name, std::to_string(prop.major) + "." + std::to_string(prop.minor),
                                           prop.totalGlobalMem});
  }
  return probe;
}

}  // namespace tessera
