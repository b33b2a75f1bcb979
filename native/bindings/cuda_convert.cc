#ifdef TESSERA_WITH_CUDA
#include "bindings/cuda_convert.h"

#include <string>

#include "bindings/convert.h"

namespace tessera {

namespace {

const napi_type_tag kCudaBufferTag = {0x7e55e7a0c0da0001ULL, 0x8b1f3c2d4e5a6978ULL};

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsExternal()) return "an External of another kind";
  if (v.IsTypedArray()) return "a typed array (host memory)";
  if (v.IsNumber()) return "the number " + v.ToString().Utf8Value();
  if (v.IsString()) return "a string";
  return "an object";
}

}  // namespace

Napi::Value WrapCudaBuffer(Napi::Env env, int device, DType dtype, int64_t length) {
  CudaDevice& d = CudaDevice::Get(device);
  void* ptr = d.Allocate(static_cast<size_t>(length) * DTypeSize(dtype), "cudaAlloc");
  auto* handle = new CudaBufferHandle{device, ptr, length, dtype, false};
  auto external = Napi::External<CudaBufferHandle>::New(env, handle, [](Napi::Env, CudaBufferHandle* h) {
    // A buffer JS dropped without cudaFree: back to the cache. Never throws out of a finalizer.
    if (!h->freed) {
      try {
        CudaDevice::Get(h->device).Free(h->ptr);
      } catch (...) {
      }
    }
    delete h;
  });
  external.TypeTag(&kCudaBufferTag);
  return external;
}

CudaBufferHandle* UnwrapCudaBuffer(const Napi::Value& v) {
  if (!v.IsExternal() || !v.As<Napi::External<CudaBufferHandle>>().CheckTypeTag(&kCudaBufferTag)) return nullptr;
  return v.As<Napi::External<CudaBufferHandle>>().Data();
}

CudaBufferHandle& GetCudaBuffer(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Napi::Value v = index < info.Length() ? info[index] : info.Env().Undefined();
  CudaBufferHandle* h = UnwrapCudaBuffer(v);
  if (h == nullptr) ThrowArgError(op, arg, "a CUDA buffer (from cudaAlloc)", Describe(v));
  if (h->freed) ThrowArgError(op, arg, "a live CUDA buffer", "one already freed");
  return *h;
}

CudaBufferHandle* GetOptionalCudaBuffer(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  if (index >= info.Length() || info[index].IsNull() || info[index].IsUndefined()) return nullptr;
  return &GetCudaBuffer(info, index, op, arg);
}

void CheckCudaBuffer(const CudaBufferHandle& b, DType dtype, int64_t length, const char* op, const char* arg) {
  if (b.dtype != dtype) ThrowArgError(op, arg, std::string("a ") + DTypeName(dtype) + " buffer", std::string("a ") + DTypeName(b.dtype) + " one");
  if (b.length != length) {
    ThrowArgError(op, arg, "a buffer of " + std::to_string(length) + " elements", std::to_string(b.length));
  }
}

CudaDevice& CommonDevice(const char* op, std::initializer_list<std::pair<const char*, const CudaBufferHandle*>> buffers) {
  int device = -1;
  const char* first = nullptr;
  for (const auto& [name, b] : buffers) {
    if (b == nullptr) continue;
    if (device < 0) {
      device = b->device;
      first = name;
    } else if (b->device != device) {
      ThrowArgError(op, name, "a buffer on cuda:" + std::to_string(device) + " (where " + first + " is)",
                    "one on cuda:" + std::to_string(b->device));
    }
  }
  if (device < 0) throw Error(std::string(op) + ": expected at least one CUDA buffer");
  CudaDevice& d = CudaDevice::Get(device);
  d.Activate();
  return d;
}

}  // namespace tessera
#endif
