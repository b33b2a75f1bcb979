#include "core/dtype.h"

#include "core/errors.h"

namespace tessera {

DType ParseDType(const std::string& name, const std::string& op, const std::string& arg) {
  if (name == "float32") return DType::kFloat32;
  if (name == "int32") return DType::kInt32;
  if (name == "bool") return DType::kBool;
  ThrowArgError(op, arg, "one of float32, int32, bool", "'" + name + "'");
}

}  // namespace tessera
