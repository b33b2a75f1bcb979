#include "cuda/context.h"

#include <cuda_runtime.h>

namespace tessera {

CudaProbe ProbeCuda() {
  CudaProbe probe;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
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
