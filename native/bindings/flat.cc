// Lean entry points for the tfjs backend's common fast case: elementwise ops on inputs of
// one shape (or a scalar against a tensor). The op is an integer code and no shapes cross
// the boundary, so a call on a tiny tensor costs about as much as an empty N-API call;
// the kernels are the same as the general bindings'.
#include <napi.h>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/binary.h"

namespace tessera {
namespace {

// binaryOpCode(name) -> the integer binaryFlat takes (looked up once per op by the caller).
Napi::Value BinaryOpCode(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<int>(ParseBinaryOp(GetString(info, 0, "binaryOpCode", "name"))));
  });
}

// binaryFlat(code, a, b, out): out = a (op) b where a and b each have out's length or length 1.
Napi::Value BinaryFlat(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    int64_t code = GetInt(info, 0, "binaryFlat", "code");
    if (code < 0 || code > static_cast<int64_t>(BinaryOp::kLast)) {
      ThrowArgError("binaryFlat", "code", "a code from binaryOpCode()", std::to_string(code));
    }
    BinaryOp op = static_cast<BinaryOp>(code);
    TensorArg a = GetTensor(info, 1, "binaryFlat", "a");
    TensorArg b = GetTensor(info, 2, "binaryFlat", "b");
    TensorArg out = GetTensor(info, 3, "binaryFlat", "out");
    CheckSameDType(a, b, "binaryFlat", "b");
    const int64_t n = out.length;
    if (a.length != n && a.length != 1) ThrowArgError("binaryFlat", "a", std::to_string(n) + " or 1 elements", std::to_string(a.length));
    if (b.length != n && b.length != 1) ThrowArgError("binaryFlat", "b", std::to_string(n) + " or 1 elements", std::to_string(b.length));
    bool returns_bool = BinaryOpReturnsBool(op);
    CheckDType(out, returns_bool ? DType::kBool : op == BinaryOp::kFloorDiv ? DType::kInt32 : a.dtype, "binaryFlat", "out");
    if (!returns_bool && a.dtype == DType::kBool) ThrowArgError("binaryFlat", "a", "dtype float32 or int32", "bool");
    Binary(op, a.dtype, a.data, Shape{a.length}, b.data, Shape{b.length}, out.data, Shape{n});
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterFlat(Napi::Env env, Napi::Object exports) {
  exports.Set("binaryOpCode", Napi::Function::New(env, BinaryOpCode, "binaryOpCode"));
  exports.Set("binaryFlat", Napi::Function::New(env, BinaryFlat, "binaryFlat"));
}

}  // namespace tessera
