#include "cuda/check.h"

#include <cstring>
#include <string>

namespace tessera {

namespace {

// __FILE__ is absolute in CMake builds; the path from the package root reads better.
const char* RelativeSource(const char* file) {
  for (const char* root : {"/native/", "/kernels/"}) {
    const char* at = std::strstr(file, root);
    if (at != nullptr) return at + 1;
  }
  return file;
}

}  // namespace

void ThrowCudaError(cudaError_t err, const char* expr, const char* file, int line) {
  throw Error(std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ") in " + expr +
              " at " + RelativeSource(file) + ":" + std::to_string(line));
}

}  // namespace tessera
