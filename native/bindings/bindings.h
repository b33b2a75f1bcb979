// One Register function per binding group; addon.cc calls each of them.
#pragma once
#include <napi.h>

namespace tessera {

void RegisterMemory(Napi::Env env, Napi::Object exports);
void RegisterCuda(Napi::Env env, Napi::Object exports);
void RegisterCudaDevice(Napi::Env env, Napi::Object exports);
void RegisterCudaKernels(Napi::Env env, Napi::Object exports);
void RegisterElementwise(Napi::Env env, Napi::Object exports);
void RegisterFlat(Napi::Env env, Napi::Object exports);
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterPool(Napi::Env env, Napi::Object exports);
void RegisterLayout(Napi::Env env, Napi::Object exports);
void RegisterUnary(Napi::Env env, Napi::Object exports);
void RegisterReduce(Napi::Env env, Napi::Object exports);
void RegisterMatMul(Napi::Env env, Napi::Object exports);
void RegisterComm(Napi::Env env, Napi::Object exports);

}  // namespace tessera
