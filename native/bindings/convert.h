// JS <-> C++ argument conversion shared by every binding group. Each getter names the op
// and the argument in the error it throws, so a bad call from JS reads like the TypeScript
// layer's own validation errors.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/shape.h"

namespace tessera {

struct TensorArg {
  void* data;
  int64_t length;  // elements
  DType dtype;

  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

TensorArg GetTensor(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
// The same conversions for values that are not call arguments (elements of an array argument).
TensorArg ToTensor(const Napi::Value& v, const char* op, const std::string& arg);
Shape ToShape(const Napi::Value& v, const char* op, const std::string& arg);
std::vector<int64_t> ToIntArray(const Napi::Value& v, const char* op, const std::string& arg);
Shape GetShape(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
std::vector<int64_t> GetIntArray(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
int64_t GetInt(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
double GetNumber(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
bool GetBool(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
std::string GetString(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
// The tensor's element count must equal the product of its shape.
void CheckTensorShape(const TensorArg& t, const Shape& shape, const char* op, const char* arg);
void CheckDType(const TensorArg& t, DType expected, const char* op, const char* arg);
void CheckSameDType(const TensorArg& a, const TensorArg& b, const char* op, const char* arg);

// Runs a binding body and converts any C++ exception into a JS exception, so that no
// error path can reach std::terminate.
template <typename F>
Napi::Value Guard(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), "tessera: out of host memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

}  // namespace tessera
