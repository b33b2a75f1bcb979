// Module entry: registers the binding groups and nothing else.
#include <napi.h>

#include "bindings/bindings.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tessera::RegisterMemory(env, exports);
  tessera::RegisterCuda(env, exports);
  tessera::RegisterCudaDevice(env, exports);
  tessera::RegisterCudaKernels(env, exports);
  tessera::RegisterElementwise(env, exports);
  tessera::RegisterFlat(env, exports);
  tessera::RegisterConv(env, exports);
  tessera::RegisterPool(env, exports);
  tessera::RegisterLayout(env, exports);
  tessera::RegisterUnary(env, exports);
  tessera::RegisterReduce(env, exports);
  tessera::RegisterMatMul(env, exports);
  tessera::RegisterComm(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tessera, Init)
