// The fused activations the CUDA GEMM and convolution epilogues apply (tfjs's names), shared
// by host launchers and kernels. Parsing from tfjs's attribute string lives with the bindings.
#pragma once
#include <string>

namespace tessera {

enum class CudaActivation : int { kLinear = 0, kRelu, kRelu6, kLeakyRelu, kElu, kSigmoid };

// tfjs's activation name ('linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'); false for
// any other (prelu takes a tensor and stays on the CPU path).
inline bool ParseCudaActivation(const std::string& name, CudaActivation* out) {
  if (name == "linear" || name.empty()) *out = CudaActivation::kLinear;
  else if (name == "relu") *out = CudaActivation::kRelu;
  else if (name == "relu6") *out = CudaActivation::kRelu6;
  else if (name == "leakyrelu") *out = CudaActivation::kLeakyRelu;
  else if (name == "elu") *out = CudaActivation::kElu;
  else if (name == "sigmoid") *out = CudaActivation::kSigmoid;
  else return false;
  return true;
}

}  // namespace tessera
