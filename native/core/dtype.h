// The dtypes the native kernels handle. complex64 and string tensors never reach native
// code: the tfjs backend sends their kernels to the tfjs-backend-cpu fallback.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tessera {

enum class DType : int { kFloat32 = 0, kInt32 = 1, kBool = 2 };

inline size_t DTypeSize(DType d) { return d == DType::kBool ? 1 : 4; }

inline const char* DTypeName(DType d) {
  switch (d) {
    case DType::kFloat32: return "float32";
    case DType::kInt32: return "int32";
    case DType::kBool: return "bool";
  }
  return "unknown";
}

DType ParseDType(const std::string& name, const std::string& op, const std::string& arg);

}  // namespace tessera
