#include "bindings/convert.h"

#include <cmath>

namespace tessera {
namespace {

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "a Float32Array";
      case napi_int32_array: return "an Int32Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "a typed array of another kind";
    }
  }
  if (v.IsArray()) return "an array";
  if (v.IsNumber()) return "the number " + v.ToString().Utf8Value();
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  return "an object";
}

Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

}  // namespace

TensorArg ToTensor(const Napi::Value& v, const char* op, const std::string& arg) {
  // One napi_get_typedarray_info call instead of node-addon-api's accessor per field: this
  // runs for every tensor of every kernel call, and tiny ops are dominated by such costs.
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok) {
    ThrowArgError(op, arg, "a Float32Array, Int32Array or Uint8Array", Describe(v));
  }
  DType dtype;
  switch (type) {
    case napi_float32_array: dtype = DType::kFloat32; break;
    case napi_int32_array: dtype = DType::kInt32; break;
    case napi_uint8_array: dtype = DType::kBool; break;
    default: ThrowArgError(op, arg, "a Float32Array, Int32Array or Uint8Array", Describe(v));
  }
  // `data` already includes the view's byte offset.
  return TensorArg{data, static_cast<int64_t>(length), dtype};
}

TensorArg GetTensor(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  return ToTensor(Arg(info, index), op, arg);
}

Shape GetShape(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  return ToShape(Arg(info, index), op, arg);
}

Shape ToShape(const Napi::Value& v, const char* op, const std::string& arg) {
  Shape shape = ToIntArray(v, op, arg);
  for (int64_t d : shape) {
    if (d < 0) ThrowArgError(op, arg, "a shape of non-negative integers", ShapeToString(shape));
  }
  return shape;
}

std::vector<int64_t> GetIntArray(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  return ToIntArray(Arg(info, index), op, arg);
}

std::vector<int64_t> ToIntArray(const Napi::Value& v, const char* op, const std::string& arg) {
  std::vector<int64_t> out;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
    return out;
  }
  if (!v.IsArray()) ThrowArgError(op, arg, "an array of integers", Describe(v));
  Napi::Array a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : NAN;
    if (!(std::floor(d) == d)) ThrowArgError(op, arg, "an array of integers", "element " + std::to_string(i) + " = " + Describe(e));
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

int64_t GetInt(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Napi::Value v = Arg(info, index);
  // One call for the common case of a number (napi_number_expected otherwise).
  double d;
  if (napi_get_value_double(v.Env(), v, &d) == napi_ok && std::floor(d) == d) return static_cast<int64_t>(d);
  d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(std::floor(d) == d)) ThrowArgError(op, arg, "an integer", Describe(v));
  return static_cast<int64_t>(d);
}

double GetNumber(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Napi::Value v = Arg(info, index);
  if (!v.IsNumber()) ThrowArgError(op, arg, "a number", Describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

bool GetBool(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Napi::Value v = Arg(info, index);
  if (!v.IsBoolean()) ThrowArgError(op, arg, "a boolean", Describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::string GetString(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Napi::Value v = Arg(info, index);
  if (!v.IsString()) ThrowArgError(op, arg, "a string", Describe(v));
  return v.As<Napi::String>().Utf8Value();
}

void CheckTensorShape(const TensorArg& t, const Shape& shape, const char* op, const char* arg) {
  int64_t n = ShapeSize(shape);
  if (n != t.length) {
    ThrowArgError(op, arg, std::to_string(n) + " elements for shape " + ShapeToString(shape),
                  std::to_string(t.length));
  }
}

void CheckDType(const TensorArg& t, DType expected, const char* op, const char* arg) {
  if (t.dtype != expected) ThrowArgError(op, arg, std::string("dtype ") + DTypeName(expected), DTypeName(t.dtype));
}

void CheckSameDType(const TensorArg& a, const TensorArg& b, const char* op, const char* arg) {
  if (a.dtype != b.dtype) ThrowArgError(op, arg, std::string("dtype ") + DTypeName(a.dtype), DTypeName(b.dtype));
}

}  // namespace tessera
