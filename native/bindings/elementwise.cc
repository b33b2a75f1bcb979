// Elementwise kernels: binary ops with broadcasting.
#include <napi.h>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/binary.h"

namespace tessera {
namespace {

template <bool Reference>
Napi::Value BinaryBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op_name = Reference ? "binaryRef" : "binary";
    std::string name = GetString(info, 0, op_name, "op");
    BinaryOp op = ParseBinaryOp(name);
    const char* op_c = name.c_str();
    TensorArg a = GetTensor(info, 1, op_c, "a");
    Shape a_shape = GetShape(info, 2, op_c, "a.shape");
    TensorArg b = GetTensor(info, 3, op_c, "b");
    Shape b_shape = GetShape(info, 4, op_c, "b.shape");
    TensorArg out = GetTensor(info, 5, op_c, "out");
    CheckTensorShape(a, a_shape, op_c, "a");
    CheckTensorShape(b, b_shape, op_c, "b");
    CheckSameDType(a, b, op_c, "b");
    Shape out_shape = BroadcastShapes(a_shape, b_shape, name);
    CheckTensorShape(out, out_shape, op_c, "out");
    bool returns_bool = BinaryOpReturnsBool(op);
    CheckDType(out, returns_bool ? DType::kBool : op == BinaryOp::kFloorDiv ? DType::kInt32 : a.dtype, op_c, "out");
    if (!returns_bool && a.dtype == DType::kBool) {
      ThrowArgError(name, "a", "dtype float32 or int32", "bool");
    }
    if (Reference) {
      BinaryRef(op, a.dtype, a.data, a_shape, b.data, b_shape, out.data, out_shape);
    } else {
      Binary(op, a.dtype, a.data, a_shape, b.data, b_shape, out.data, out_shape);
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, BinaryBinding<false>, "binary"));
  exports.Set("binaryRef", Napi::Function::New(env, BinaryBinding<true>, "binaryRef"));
}

}  // namespace tessera
