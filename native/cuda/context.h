// CUDA device discovery. Compiled only when the build found a CUDA toolkit.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace tessera {

struct CudaDeviceInfo {
  std::string name;
  std::string compute_capability;
  size_t memory_bytes;
};

struct CudaProbe {
  std::vector<CudaDeviceInfo> devices;
  std::string reason;  // why no device is usable; empty when devices were found
};

CudaProbe ProbeCuda();

}  // namespace tessera
