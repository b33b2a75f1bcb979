// N-API surface of the bench peers: OpenBLAS sgemm on Float32Arrays and the bandwidth probe.
// Everything here runs synchronously on the calling thread (the libraries bring their own
// threads), which is how the bench times the other synchronous peers.
#include <napi.h>

#include <cblas.h>

#include <cstddef>
#include <string>

#include "bandwidth.h"

namespace {

int probe_threads = 2;

struct Floats {
  float* data;
  size_t length;
};

Floats ArgFloats(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Float32Array");
  }
  auto array = info[i].As<Napi::Float32Array>();
  return {array.Data(), array.ElementLength()};
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  const int64_t v = info[i].As<Napi::Number>().Int64Value();
  if (v < 0) throw Napi::RangeError::New(info.Env(), std::string(name) + " must not be negative");
  return v;
}

// sgemm(m, n, k, a, b, c): c[m x n] = a[m x k] * b[k x n], all row-major.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  const int64_t m = ArgInt(info, 0, "m"), n = ArgInt(info, 1, "n"), k = ArgInt(info, 2, "k");
  const Floats a = ArgFloats(info, 3, "a"), b = ArgFloats(info, 4, "b"), c = ArgFloats(info, 5, "c");
  if (a.length < size_t(m * k) || b.length < size_t(k * n) || c.length < size_t(m * n)) {
    throw Napi::RangeError::New(info.Env(), "sgemm: an array is shorter than its shape");
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, a.data, int(k), b.data,
              int(n), 0.0f, c.data, int(n));
  return info.Env().Undefined();
}

Napi::Value SetBlasThreads(const Napi::CallbackInfo& info) {
  const int64_t threads = ArgInt(info, 0, "threads");
  if (threads < 1) throw Napi::RangeError::New(info.Env(), "threads must be at least 1");
  openblas_set_num_threads(int(threads));
  return info.Env().Undefined();
}

Napi::Value BlasInfo(const Napi::CallbackInfo& info) {
  auto out = Napi::Object::New(info.Env());
  out.Set("config", std::string(openblas_get_config()));
  out.Set("core", std::string(openblas_get_corename()));
  out.Set("threads", openblas_get_num_threads());
  return out;
}

Napi::Value SetProbeThreads(const Napi::CallbackInfo& info) {
  const int64_t threads = ArgInt(info, 0, "threads");
  if (threads < 1) throw Napi::RangeError::New(info.Env(), "threads must be at least 1");
  probe_threads = int(threads);
  return info.Env().Undefined();
}

Napi::Value Triad(const Napi::CallbackInfo& info) {
  const Floats a = ArgFloats(info, 0, "a"), b = ArgFloats(info, 1, "b"), c = ArgFloats(info, 2, "c");
  if (b.length < a.length || c.length < a.length) {
    throw Napi::RangeError::New(info.Env(), "triad: b and c must be as long as a");
  }
  if (info.Length() < 4 || !info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "s must be a number");
  bw_triad(a.data, b.data, c.data, info[3].As<Napi::Number>().FloatValue(), a.length, probe_threads);
  return info.Env().Undefined();
}

Napi::Value Copy(const Napi::CallbackInfo& info) {
  const Floats dst = ArgFloats(info, 0, "dst"), src = ArgFloats(info, 1, "src");
  if (src.length < dst.length) throw Napi::RangeError::New(info.Env(), "copy: src is shorter than dst");
  bw_copy(dst.data, src.data, dst.length, probe_threads);
  return info.Env().Undefined();
}

Napi::Value Sum(const Napi::CallbackInfo& info) {
  const Floats a = ArgFloats(info, 0, "a");
  return Napi::Number::New(info.Env(), bw_sum(a.data, a.length, probe_threads));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("setBlasThreads", Napi::Function::New(env, SetBlasThreads));
  exports.Set("blasInfo", Napi::Function::New(env, BlasInfo));
  exports.Set("setProbeThreads", Napi::Function::New(env, SetProbeThreads));
  exports.Set("triad", Napi::Function::New(env, Triad));
  exports.Set("copy", Napi::Function::New(env, Copy));
  exports.Set("sum", Napi::Function::New(env, Sum));
  return exports;
}

}  // namespace

NODE_API_MODULE(bench_peers, Init)
