// Host buffers and runtime facts: allocation, release, live counts, build info, threads.
#include <napi.h>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "core/buffer.h"
#include "core/thread_pool.h"
#include "cpu/isa.h"

namespace tessera {
namespace {

void FinalizeBuffer(Napi::Env, void*, uint64_t* id) {
  // Frees only buffers that were never released explicitly (dropped by the user).
  FreeBuffer(*id);
  delete id;
}

// alloc(dtype, length) -> a typed array over a new 64-byte aligned native buffer.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    DType dtype = ParseDType(GetString(info, 0, "alloc", "dtype"), "alloc", "dtype");
    int64_t length = GetInt(info, 1, "alloc", "length");
    if (length < 0 || length > (int64_t{1} << 40)) ThrowArgError("alloc", "length", "an integer in [0, 2^40]", std::to_string(length));
    size_t bytes = static_cast<size_t>(length) * DTypeSize(dtype);
    if (bytes == 0) {
      // V8 does not keep the data pointer of an empty external buffer, so release() could not
      // find it again: empty arrays are plain JS arrays that own nothing.
      switch (dtype) {
        case DType::kFloat32: return Napi::Float32Array::New(info.Env(), 0);
        case DType::kInt32: return Napi::Int32Array::New(info.Env(), 0);
        case DType::kBool: return Napi::Uint8Array::New(info.Env(), 0);
      }
    }
    uint64_t* id = new uint64_t(0);
    void* data;
    try {
      data = AllocateBuffer(bytes, id);
    } catch (...) {
      delete id;
      throw;
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(info.Env(), data, bytes, FinalizeBuffer, id);
    switch (dtype) {
      case DType::kFloat32: return Napi::Float32Array::New(info.Env(), length, ab, 0);
      case DType::kInt32: return Napi::Int32Array::New(info.Env(), length, ab, 0);
      case DType::kBool: return Napi::Uint8Array::New(info.Env(), length, ab, 0);
    }
    return info.Env().Undefined();
  });
}

// release(array) -> true if the array's native buffer was live and is now freed. The
// ArrayBuffer is detached first so that any view a user kept reads as empty instead of
// reading freed memory.
Napi::Value Release(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Value v = info.Length() > 0 ? info[0] : info.Env().Undefined();
    if (!v.IsTypedArray()) ThrowArgError("release", "array", "a typed array from alloc()", "another value");
    Napi::ArrayBuffer ab = v.As<Napi::TypedArray>().ArrayBuffer();
    uint64_t id = FindBuffer(ab.Data());
    if (id == 0) return Napi::Boolean::New(info.Env(), false);
    ab.Detach();
    return Napi::Boolean::New(info.Env(), FreeBuffer(id));
  });
}

// isNative(array) -> whether the array views a live Tessera buffer.
Napi::Value IsNative(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsTypedArray()) return Napi::Boolean::New(info.Env(), false);
    Napi::TypedArray t = info[0].As<Napi::TypedArray>();
    return Napi::Boolean::New(info.Env(), FindBuffer(t.ArrayBuffer().Data()) != 0);
  });
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  BufferStats s = GetBufferStats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("liveBuffers", static_cast<double>(s.live_buffers));
  o.Set("liveBytes", static_cast<double>(s.live_bytes));
  o.Set("totalAllocations", static_cast<double>(s.total_allocations));
  o.Set("cachedBytes", static_cast<double>(s.cached_bytes));
  return o;
}

Napi::Value TrimCache(const Napi::CallbackInfo& info) {
  TrimBufferCache();
  return info.Env().Undefined();
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiler", TESSERA_COMPILER);
  o.Set("buildType", TESSERA_BUILD_TYPE);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("isa", IsaName(ActiveIsa()));
  Napi::Object parts = Napi::Object::New(env);
#ifdef TESSERA_WITH_CUDA
  parts.Set("cuda", TESSERA_CUDA_VERSION);
#else
  parts.Set("cuda", false);
#endif
#ifdef TESSERA_WITH_MPI
  parts.Set("mpi", TESSERA_MPI_VERSION);
#else
  parts.Set("mpi", false);
#endif
#ifdef TESSERA_WITH_NCCL
  parts.Set("nccl", true);
#else
  parts.Set("nccl", false);
#endif
  o.Set("with", parts);
  return o;
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), NumThreads()); }

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    int64_t n = GetInt(info, 0, "setNumThreads", "n");
    if (n < 1 || n > 1024) ThrowArgError("setNumThreads", "n", "an integer in [1, 1024]", std::to_string(n));
    SetNumThreads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("release", Napi::Function::New(env, Release, "release"));
  exports.Set("isNative", Napi::Function::New(env, IsNative, "isNative"));
  exports.Set("bufferStats", Napi::Function::New(env, Stats, "bufferStats"));
  exports.Set("trimBufferCache", Napi::Function::New(env, TrimCache, "trimBufferCache"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("numThreads", Napi::Function::New(env, GetThreads, "numThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetThreads, "setNumThreads"));
}

}  // namespace tessera
