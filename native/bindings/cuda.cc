// CUDA presence: which devices the addon sees, or why it sees none.
#include <napi.h>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#ifdef TESSERA_WITH_CUDA
#include "cuda/context.h"
#endif

namespace tessera {
namespace {

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
#ifdef TESSERA_WITH_CUDA
    CudaProbe probe = ProbeCuda();
    o.Set("built", true);
    o.Set("available", probe.devices.size() > 0);
    o.Set("reason", probe.reason);
    Napi::Array devices = Napi::Array::New(env, probe.devices.size());
    for (size_t i = 0; i < probe.devices.size(); i++) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("index", static_cast<double>(i));
      d.Set("name", probe.devices[i].name);
      d.Set("computeCapability", probe.devices[i].compute_capability);
      d.Set("memoryBytes", static_cast<double>(probe.devices[i].memory_bytes));
      devices.Set(static_cast<uint32_t>(i), d);
    }
    o.Set("devices", devices);
#else
    o.Set("built", false);
    o.Set("available", false);
    o.Set("reason", "the addon was built without CUDA (no CUDA toolkit was found at build time)");
    o.Set("devices", Napi::Array::New(env, 0));
#endif
    return o;
  });
}

}  // namespace

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfo, "cudaInfo"));
}

}  // namespace tessera
