// JS <-> C++ conversion for CUDA buffers: a device buffer crosses to JS as a type-tagged
// External (a handle that JS code cannot forge or confuse with another External), freed
// explicitly by cudaFree or, failing that, when it is garbage-collected. Compiled only with
// CUDA. Errors follow convert.h: "<op>: expected <what> for <arg> but got <what came>".
#pragma once
#ifdef TESSERA_WITH_CUDA
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <utility>

#include "core/dtype.h"
#include "cuda/device.h"

namespace tessera {

struct CudaBufferHandle {
  int device;
  void* ptr;  // nullptr for 0 elements
  int64_t length;
  DType dtype;
  bool freed;

  float* as_float() const { return static_cast<float*>(ptr); }
};

Napi::Value WrapCudaBuffer(Napi::Env env, int device, DType dtype, int64_t length);
// The handle behind `v` (freed or not), nullptr when `v` is not a CUDA buffer.
CudaBufferHandle* UnwrapCudaBuffer(const Napi::Value& v);
CudaBufferHandle& GetCudaBuffer(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
// null or undefined give nullptr.
CudaBufferHandle* GetOptionalCudaBuffer(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg);
void CheckCudaBuffer(const CudaBufferHandle& b, DType dtype, int64_t length, const char* op, const char* arg);
// The device all `buffers` live on; throws naming the first one on another device.
CudaDevice& CommonDevice(const char* op, std::initializer_list<std::pair<const char*, const CudaBufferHandle*>> buffers);

}  // namespace tessera
#endif
