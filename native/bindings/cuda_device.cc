// The CUDA device from JS: buffers (alloc/free/upload/download), stream sync, allocator
// stats and trim, the device-copy bandwidth probe; plus a caching allocator over a mock raw
// allocator, built with or without CUDA, so its bookkeeping is tested on any machine.
#include <napi.h>

#include <memory>
#include <unordered_map>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cuda/caching_allocator.h"
#ifdef TESSERA_WITH_CUDA
#include "bindings/cuda_convert.h"
#include "cuda/device.h"
#endif

namespace tessera {
namespace {

Napi::Object StatsObject(Napi::Env env, const AllocatorStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveBytes", static_cast<double>(s.live_bytes));
  o.Set("liveBuffers", static_cast<double>(s.live_blocks));
  o.Set("cachedBytes", static_cast<double>(s.cached_bytes));
  o.Set("cachedBuffers", static_cast<double>(s.cached_blocks));
  o.Set("peakLiveBytes", static_cast<double>(s.peak_live_bytes));
  o.Set("rawAllocations", static_cast<double>(s.raw_allocations));
  o.Set("reuses", static_cast<double>(s.reuses));
  return o;
}

// ---- the mock: raw "device memory" is host memory with a capacity, so out-of-memory and
// the retry after releasing the cache can be exercised ----

class MockRawAllocator : public RawDeviceAllocator {
 public:
  explicit MockRawAllocator(size_t capacity) : capacity_(capacity) {}
  void* Allocate(size_t bytes) override {
    if (used_ + bytes > capacity_) return nullptr;
    used_ += bytes;
    void* p = ::operator new(bytes);
    sizes_[p] = bytes;
    return p;
  }
  void Release(void* p) override {
    used_ -= sizes_.at(p);
    sizes_.erase(p);
    ::operator delete(p);
  }
  size_t used() const { return used_; }

 private:
  size_t capacity_;
  size_t used_ = 0;
  std::unordered_map<void*, size_t> sizes_;
};

class MockCachingAllocator : public Napi::ObjectWrap<MockCachingAllocator> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MockCachingAllocator",
                       {InstanceMethod("alloc", &MockCachingAllocator::Alloc), InstanceMethod("free", &MockCachingAllocator::Free),
                        InstanceMethod("trim", &MockCachingAllocator::Trim), InstanceMethod("stats", &MockCachingAllocator::Stats),
                        InstanceMethod("rawBytesInUse", &MockCachingAllocator::RawBytesInUse)});
  }

  explicit MockCachingAllocator(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MockCachingAllocator>(info) {
    const int64_t capacity = GetInt(info, 0, "MockCachingAllocator", "capacity");
    if (capacity < 0) ThrowArgError("MockCachingAllocator", "capacity", "a non-negative byte count", std::to_string(capacity));
    raw_ = std::make_unique<MockRawAllocator>(static_cast<size_t>(capacity));
    allocator_ = std::make_unique<CachingAllocator>(raw_.get());
  }
  ~MockCachingAllocator() override {
    allocator_.reset();
    for (auto& entry : blocks_) raw_->Release(entry.second);
  }

 private:
  // Returns a block id (0 for a 0-byte request, which allocates nothing).
  Napi::Value Alloc(const Napi::CallbackInfo& info) {
    return Guard(info, [&]() -> Napi::Value {
      const int64_t bytes = GetInt(info, 0, "mock.alloc", "bytes");
      if (bytes < 0) ThrowArgError("mock.alloc", "bytes", "a non-negative byte count", std::to_string(bytes));
      void* p = allocator_->Allocate(static_cast<size_t>(bytes), "mock.alloc");
      if (p == nullptr) return Napi::Number::New(info.Env(), 0);
      const double id = static_cast<double>(++next_id_);
      blocks_[next_id_] = p;
      return Napi::Number::New(info.Env(), id);
    });
  }
  Napi::Value Free(const Napi::CallbackInfo& info) {
    return Guard(info, [&]() -> Napi::Value {
      const int64_t id = GetInt(info, 0, "mock.free", "id");
      auto it = blocks_.find(id);
      if (it == blocks_.end()) return Napi::Boolean::New(info.Env(), false);
      const bool freed = allocator_->Free(it->second);
      blocks_.erase(it);
      return Napi::Boolean::New(info.Env(), freed);
    });
  }
  Napi::Value Trim(const Napi::CallbackInfo& info) {
    allocator_->Trim();
    return info.Env().Undefined();
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) { return StatsObject(info.Env(), allocator_->Stats()); }
  Napi::Value RawBytesInUse(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(raw_->used())); }

  std::unique_ptr<MockRawAllocator> raw_;
  std::unique_ptr<CachingAllocator> allocator_;
  std::unordered_map<int64_t, void*> blocks_;
  int64_t next_id_ = 0;
};

Napi::Value SizeClass(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const int64_t bytes = GetInt(info, 0, "cachingAllocatorSizeClass", "bytes");
    if (bytes < 0) ThrowArgError("cachingAllocatorSizeClass", "bytes", "a non-negative byte count", std::to_string(bytes));
    return Napi::Number::New(info.Env(), static_cast<double>(CachingAllocator::SizeClass(static_cast<size_t>(bytes))));
  });
}

#ifdef TESSERA_WITH_CUDA

int GetDeviceIndex(const Napi::CallbackInfo& info, size_t index, const char* op) {
  const int64_t d = GetInt(info, index, op, "device");
  if (d < 0 || d > 1024) ThrowArgError(op, "device", "a device index", std::to_string(d));
  return static_cast<int>(d);
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const int device = GetDeviceIndex(info, 0, "cudaAlloc");
    const DType dtype = ParseDType(GetString(info, 1, "cudaAlloc", "dtype"), "cudaAlloc", "dtype");
    const int64_t length = GetInt(info, 2, "cudaAlloc", "length");
    if (length < 0) ThrowArgError("cudaAlloc", "length", "a non-negative element count", std::to_string(length));
    return WrapCudaBuffer(info.Env(), device, dtype, length);
  });
}

// A second free answers false rather than throwing, like release() for host arrays.
Napi::Value Free(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaBufferHandle* h = UnwrapCudaBuffer(info.Length() > 0 ? info[0] : info.Env().Undefined());
    if (h == nullptr) GetCudaBuffer(info, 0, "cudaFree", "buffer");  // throws the argument error
    if (h->freed) return Napi::Boolean::New(info.Env(), false);
    CudaDevice::Get(h->device).Free(h->ptr);
    h->freed = true;
    h->ptr = nullptr;
    return Napi::Boolean::New(info.Env(), true);
  });
}

Napi::Value BufferInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaBufferHandle* h = UnwrapCudaBuffer(info.Length() > 0 ? info[0] : info.Env().Undefined());
    if (h == nullptr) GetCudaBuffer(info, 0, "cudaBufferInfo", "buffer");
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("device", h->device);
    o.Set("dtype", DTypeName(h->dtype));
    o.Set("length", static_cast<double>(h->length));
    o.Set("freed", h->freed);
    return o;
  });
}

Napi::Value Upload(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaBufferHandle& b = GetCudaBuffer(info, 0, "cudaUpload", "buffer");
    const TensorArg src = GetTensor(info, 1, "cudaUpload", "values");
    if (src.dtype != b.dtype) ThrowArgError("cudaUpload", "values", std::string("a ") + DTypeName(b.dtype) + " array", DTypeName(src.dtype));
    if (src.length != b.length) ThrowArgError("cudaUpload", "values", std::to_string(b.length) + " elements", std::to_string(src.length));
    CudaDevice::Get(b.device).Upload(b.ptr, src.data, static_cast<size_t>(b.length) * DTypeSize(b.dtype));
    return info.Env().Undefined();
  });
}

Napi::Value Download(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaBufferHandle& b = GetCudaBuffer(info, 0, "cudaDownload", "buffer");
    const TensorArg dst = GetTensor(info, 1, "cudaDownload", "out");
    if (dst.dtype != b.dtype) ThrowArgError("cudaDownload", "out", std::string("a ") + DTypeName(b.dtype) + " array", DTypeName(dst.dtype));
    if (dst.length != b.length) ThrowArgError("cudaDownload", "out", std::to_string(b.length) + " elements", std::to_string(dst.length));
    CudaDevice::Get(b.device).Download(dst.data, b.ptr, static_cast<size_t>(b.length) * DTypeSize(b.dtype));
    return info.Env().Undefined();
  });
}

// Waits for one pending read on a worker thread, so that `await tensor.data()` leaves the
// event loop free; the copy itself was enqueued on the JS thread (see CudaDevice::EnqueueRead).
class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Env env, CudaDevice& device, CudaDevice::PendingRead read, Napi::Value out)
      : Napi::AsyncWorker(env, "tessera:cudaDownloadAsync"), device_(device), read_(read),
        deferred_(Napi::Promise::Deferred::New(env)) {
    out_ = Napi::Persistent(out.As<Napi::Object>());
  }
  ~ReadWorker() override {
    if (read_.pinned != nullptr || read_.done != nullptr) device_.FinishRead(read_, nullptr);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      device_.WaitRead(read_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    const TensorArg dst = ToTensor(out_.Value(), "cudaDownloadAsync", "out");
    device_.FinishRead(read_, dst.data);
    deferred_.Resolve(env.Undefined());
  }
  void OnError(const Napi::Error& e) override {
    device_.FinishRead(read_, nullptr);
    deferred_.Reject(e.Value());
  }

 private:
  CudaDevice& device_;
  CudaDevice::PendingRead read_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference out_;
};

Napi::Value DownloadAsync(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaBufferHandle& b = GetCudaBuffer(info, 0, "cudaDownloadAsync", "buffer");
    const TensorArg dst = GetTensor(info, 1, "cudaDownloadAsync", "out");
    if (dst.dtype != b.dtype) ThrowArgError("cudaDownloadAsync", "out", std::string("a ") + DTypeName(b.dtype) + " array", DTypeName(dst.dtype));
    if (dst.length != b.length) ThrowArgError("cudaDownloadAsync", "out", std::to_string(b.length) + " elements", std::to_string(dst.length));
    CudaDevice& d = CudaDevice::Get(b.device);
    auto* worker = new ReadWorker(info.Env(), d, d.EnqueueRead(b.ptr, static_cast<size_t>(b.length) * DTypeSize(b.dtype)), info[1]);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value Sync(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaDevice::Get(GetDeviceIndex(info, 0, "cudaSync")).Synchronize();
    return info.Env().Undefined();
  });
}

Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    return StatsObject(info.Env(), CudaDevice::Get(GetDeviceIndex(info, 0, "cudaMemoryStats")).Stats());
  });
}

Napi::Value Trim(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaDevice::Get(GetDeviceIndex(info, 0, "cudaTrim")).Trim();
    return info.Env().Undefined();
  });
}

Napi::Value CopyProbe(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CudaDevice& d = CudaDevice::Get(GetDeviceIndex(info, 0, "cudaCopyProbe"));
    const int64_t bytes = GetInt(info, 1, "cudaCopyProbe", "bytes");
    const int64_t iterations = GetInt(info, 2, "cudaCopyProbe", "iterations");
    if (bytes < 1) ThrowArgError("cudaCopyProbe", "bytes", "a positive byte count", std::to_string(bytes));
    if (iterations < 1) ThrowArgError("cudaCopyProbe", "iterations", "a positive count", std::to_string(iterations));
    const double ms = d.CopyMilliseconds(static_cast<size_t>(bytes), static_cast<int>(iterations));
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("bytes", static_cast<double>(bytes));
    o.Set("milliseconds", ms);
    return o;
  });
}

#endif

}  // namespace

void RegisterCudaDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("MockCachingAllocator", MockCachingAllocator::Define(env));
  exports.Set("cachingAllocatorSizeClass", Napi::Function::New(env, SizeClass, "cachingAllocatorSizeClass"));
#ifdef TESSERA_WITH_CUDA
  exports.Set("cudaAlloc", Napi::Function::New(env, Alloc, "cudaAlloc"));
  exports.Set("cudaFree", Napi::Function::New(env, Free, "cudaFree"));
  exports.Set("cudaBufferInfo", Napi::Function::New(env, BufferInfo, "cudaBufferInfo"));
  exports.Set("cudaUpload", Napi::Function::New(env, Upload, "cudaUpload"));
  exports.Set("cudaDownload", Napi::Function::New(env, Download, "cudaDownload"));
  exports.Set("cudaDownloadAsync", Napi::Function::New(env, DownloadAsync, "cudaDownloadAsync"));
  exports.Set("cudaSync", Napi::Function::New(env, Sync, "cudaSync"));
  exports.Set("cudaMemoryStats", Napi::Function::New(env, MemoryStats, "cudaMemoryStats"));
  exports.Set("cudaTrim", Napi::Function::New(env, Trim, "cudaTrim"));
  exports.Set("cudaCopyProbe", Napi::Function::New(env, CopyProbe, "cudaCopyProbe"));
#endif
}

}  // namespace tessera
