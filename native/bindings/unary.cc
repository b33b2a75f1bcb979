// Unary elementwise kernels, activations, Cast, Fill, Select, AddN, Prelu and EluGrad.
// Each binding has a reference twin (<name>Ref) running the scalar oracle of native/cpu/unary.h.
#include <napi.h>

#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/unary.h"

namespace tessera {
namespace {

void CheckSameLength(const TensorArg& t, int64_t length, const char* op, const char* arg) {
  if (t.length != length) ThrowArgError(op, arg, std::to_string(length) + " elements", std::to_string(t.length));
}

DType UpcastDType(DType a, DType b) {
  if (a == DType::kFloat32 || b == DType::kFloat32) return DType::kFloat32;
  if (a == DType::kInt32 || b == DType::kInt32) return DType::kInt32;
  return DType::kBool;
}

// unary(op, x, out[, alpha | clipValueMin, clipValueMax])
template <bool Reference>
Napi::Value UnaryBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string name = GetString(info, 0, Reference ? "unaryRef" : "unary", "op");
    const UnaryOp op = ParseUnaryOp(name);
    const char* op_c = name.c_str();
    TensorArg x = GetTensor(info, 1, op_c, "x");
    TensorArg out = GetTensor(info, 2, op_c, "out");
    CheckSameLength(out, x.length, op_c, "out");
    CheckDType(out, UnaryOutDType(op, x.dtype), op_c, "out");
    UnaryAttrs attrs;
    if (op == UnaryOp::kStep || op == UnaryOp::kLeakyRelu) attrs.alpha = GetNumber(info, 3, op_c, "alpha");
    if (op == UnaryOp::kClipByValue) {
      attrs.clip_min = GetNumber(info, 3, op_c, "clipValueMin");
      attrs.clip_max = GetNumber(info, 4, op_c, "clipValueMax");
    }
    (Reference ? UnaryRef : Unary)(op, x.dtype, x.data, out.data, x.length, attrs);
    return info.Env().Undefined();
  });
}

// cast(x, out): out's typed array type names the target dtype.
template <bool Reference>
Napi::Value CastBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    TensorArg x = GetTensor(info, 0, "Cast", "x");
    TensorArg out = GetTensor(info, 1, "Cast", "out");
    CheckSameLength(out, x.length, "Cast", "out");
    (Reference ? CastRef : Cast)(x.dtype, x.data, out.dtype, out.data, x.length);
    return info.Env().Undefined();
  });
}

// fill(out, value)
template <bool Reference>
Napi::Value FillBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    TensorArg out = GetTensor(info, 0, "Fill", "out");
    double value = GetNumber(info, 1, "Fill", "value");
    (Reference ? FillRef : Fill)(out.dtype, out.data, out.length, value);
    return info.Env().Undefined();
  });
}

// select(condition, t, e, out): condition has t's size, or divides it (one flag per row).
template <bool Reference>
Napi::Value SelectBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    TensorArg condition = GetTensor(info, 0, "Select", "condition");
    TensorArg t = GetTensor(info, 1, "Select", "t");
    TensorArg e = GetTensor(info, 2, "Select", "e");
    TensorArg out = GetTensor(info, 3, "Select", "out");
    CheckDType(condition, DType::kBool, "Select", "condition");
    CheckSameLength(e, t.length, "Select", "e");
    CheckSameLength(out, t.length, "Select", "out");
    CheckDType(out, UpcastDType(t.dtype, e.dtype), "Select", "out");
    const bool rows_fit = condition.length > 0 ? t.length % condition.length == 0 : t.length == 0;
    if (!rows_fit) {
      ThrowArgError("Select", "condition", "a size dividing t's " + std::to_string(t.length), std::to_string(condition.length));
    }
    (Reference ? SelectRef : Select)(condition.as<uint8_t>(), condition.length, t.dtype, t.data, e.dtype, e.data,
                                     out.dtype, out.data, t.length);
    return info.Env().Undefined();
  });
}

// addN(out, x0, x1, ...)
template <bool Reference>
Napi::Value AddNBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    TensorArg out = GetTensor(info, 0, "AddN", "out");
    if (out.dtype == DType::kBool) ThrowArgError("AddN", "out", "dtype float32 or int32", "bool");
    if (info.Length() < 2) ThrowArgError("AddN", "inputs", "at least one tensor", "none");
    std::vector<const void*> inputs;
    for (size_t i = 1; i < info.Length(); i++) {
      const std::string arg = "inputs[" + std::to_string(i - 1) + "]";
      TensorArg x = GetTensor(info, i, "AddN", arg.c_str());
      CheckDType(x, out.dtype, "AddN", arg.c_str());
      CheckSameLength(x, out.length, "AddN", arg.c_str());
      inputs.push_back(x.data);
    }
    (Reference ? AddNRef : AddN)(out.dtype, inputs, out.data, out.length);
    return info.Env().Undefined();
  });
}

// prelu(x, xShape, alpha, alphaShape, out)
template <bool Reference>
Napi::Value PreluBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    TensorArg x = GetTensor(info, 0, "Prelu", "x");
    Shape x_shape = GetShape(info, 1, "Prelu", "x.shape");
    TensorArg alpha = GetTensor(info, 2, "Prelu", "alpha");
    Shape alpha_shape = GetShape(info, 3, "Prelu", "alpha.shape");
    TensorArg out = GetTensor(info, 4, "Prelu", "out");
    CheckTensorShape(x, x_shape, "Prelu", "x");
    CheckTensorShape(alpha, alpha_shape, "Prelu", "alpha");
    Shape out_shape = BroadcastShapes(x_shape, alpha_shape, "Prelu");
    CheckTensorShape(out, out_shape, "Prelu", "out");
    CheckDType(out, DType::kFloat32, "Prelu", "out");
    (Reference ? PreluRef : Prelu)(x.dtype, x.data, x_shape, alpha.dtype, alpha.data, alpha_shape, out.as<float>(), out_shape);
    return info.Env().Undefined();
  });
}

// eluGrad(dy, y, out)
template <bool Reference>
Napi::Value EluGradBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    TensorArg dy = GetTensor(info, 0, "EluGrad", "dy");
    TensorArg y = GetTensor(info, 1, "EluGrad", "y");
    TensorArg out = GetTensor(info, 2, "EluGrad", "out");
    CheckDType(dy, DType::kFloat32, "EluGrad", "dy");
    CheckDType(y, DType::kFloat32, "EluGrad", "y");
    CheckDType(out, DType::kFloat32, "EluGrad", "out");
    CheckSameLength(y, dy.length, "EluGrad", "y");
    CheckSameLength(out, dy.length, "EluGrad", "out");
    (Reference ? EluGradRef : EluGrad)(dy.as<float>(), y.as<float>(), out.as<float>(), dy.length);
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterUnary(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, UnaryBinding<false>, "unary"));
  exports.Set("unaryRef", Napi::Function::New(env, UnaryBinding<true>, "unaryRef"));
  exports.Set("cast", Napi::Function::New(env, CastBinding<false>, "cast"));
  exports.Set("castRef", Napi::Function::New(env, CastBinding<true>, "castRef"));
  exports.Set("fill", Napi::Function::New(env, FillBinding<false>, "fill"));
  exports.Set("fillRef", Napi::Function::New(env, FillBinding<true>, "fillRef"));
  exports.Set("select", Napi::Function::New(env, SelectBinding<false>, "select"));
  exports.Set("selectRef", Napi::Function::New(env, SelectBinding<true>, "selectRef"));
  exports.Set("addN", Napi::Function::New(env, AddNBinding<false>, "addN"));
  exports.Set("addNRef", Napi::Function::New(env, AddNBinding<true>, "addNRef"));
  exports.Set("prelu", Napi::Function::New(env, PreluBinding<false>, "prelu"));
  exports.Set("preluRef", Napi::Function::New(env, PreluBinding<true>, "preluRef"));
  exports.Set("eluGrad", Napi::Function::New(env, EluGradBinding<false>, "eluGrad"));
  exports.Set("eluGradRef", Napi::Function::New(env, EluGradBinding<true>, "eluGradRef"));
}

}  // namespace tessera
