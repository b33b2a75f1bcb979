#include "cuda/device.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"

namespace tessera {

namespace {

class CudaRawAllocator : public RawDeviceAllocator {
 public:
  explicit CudaRawAllocator(int device) : device_(device) {}

  void* Allocate(size_t bytes) override {
    TESSERA_CUDA_CHECK(cudaSetDevice(device_));
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clears the error so that later calls do not report it again
      return nullptr;
    }
    TESSERA_CUDA_CHECK(err);
    return p;
  }

  void Release(void* p) override {
    // Called from Trim and from destructors: an error here (a context already torn down at
    // exit) must not throw out of them.
    cudaSetDevice(device_);
    cudaFree(p);
  }

 private:
  int device_;
};

class PinnedRawAllocator : public RawDeviceAllocator {
 public:
  void* Allocate(size_t bytes) override {
    void* p = nullptr;
    const cudaError_t err = cudaMallocHost(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    TESSERA_CUDA_CHECK(err);
    return p;
  }
  void Release(void* p) override { cudaFreeHost(p); }
};

struct Registry {
  std::once_flag probed;
  CudaProbe probe;
  std::mutex mu;
  // Never destroyed: tensors may be finalized during process exit, after static destructors.
  std::vector<CudaDevice*> devices;
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

const CudaProbe& Probe() {
  Registry& r = TheRegistry();
  std::call_once(r.probed, [&] { r.probe = ProbeCuda(); });
  return r.probe;
}

}  // namespace

int CudaDevice::Count() { return static_cast<int>(Probe().devices.size()); }

CudaDevice& CudaDevice::Get(int index) {
  const CudaProbe& probe = Probe();
  if (probe.devices.empty()) throw Error(probe.reason);
  const int count = static_cast<int>(probe.devices.size());
  if (index < 0 || index >= count) {
    throw Error("cuda: expected a device index in [0, " + std::to_string(count - 1) + "] but got " +
                std::to_string(index));
  }
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.devices.empty()) r.devices.assign(count, nullptr);
  if (r.devices[index] == nullptr) r.devices[index] = new CudaDevice(index);
  return *r.devices[index];
}

CudaDevice::CudaDevice(int index) : index_(index) {
  TESSERA_CUDA_CHECK(cudaSetDevice(index));
  TESSERA_CUDA_CHECK(cudaGetDeviceProperties(&props_, index));
  // Non-blocking: the legacy default stream (used by libraries in the same process) does
  // not serialize against Tessera's work.
  TESSERA_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  raw_ = std::make_unique<CudaRawAllocator>(index);
  allocator_ = std::make_unique<CachingAllocator>(raw_.get());
  pinned_raw_ = std::make_unique<PinnedRawAllocator>();
  pinned_ = std::make_unique<CachingAllocator>(pinned_raw_.get());
}

void CudaDevice::Activate() const { TESSERA_CUDA_CHECK(cudaSetDevice(index_)); }

void* CudaDevice::Allocate(size_t bytes, const std::string& what) {
  return allocator_->Allocate(bytes, what + " on cuda:" + std::to_string(index_));
}

bool CudaDevice::Free(void* p) { return allocator_->Free(p); }

void CudaDevice::Trim() {
  // Cached blocks may still be read by enqueued kernels that used them before their free.
  Synchronize();
  allocator_->Trim();
  pinned_->Trim();
}

void CudaDevice::EnsureStaging() {
  if (staging_[0] != nullptr) return;
  Activate();
  for (int i = 0; i < 2; i++) {
    TESSERA_CUDA_CHECK(cudaMallocHost(&staging_[i], kStagingChunk));
    TESSERA_CUDA_CHECK(cudaEventCreateWithFlags(&staging_done_[i], cudaEventDisableTiming));
  }
}

void CudaDevice::Upload(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  EnsureStaging();
  Activate();
  const char* from = static_cast<const char*>(src);
  char* to = static_cast<char*>(dst);
  int slot = 0;
  for (size_t offset = 0; offset < bytes; offset += kStagingChunk, slot ^= 1) {
    const size_t n = std::min(kStagingChunk, bytes - offset);
    // The slot's previous copy (from an earlier chunk or call) must have left it.
    TESSERA_CUDA_CHECK(cudaEventSynchronize(staging_done_[slot]));
    std::memcpy(staging_[slot], from + offset, n);
    TESSERA_CUDA_CHECK(cudaMemcpyAsync(to + offset, staging_[slot], n, cudaMemcpyHostToDevice, stream_));
    TESSERA_CUDA_CHECK(cudaEventRecord(staging_done_[slot], stream_));
  }
}

void CudaDevice::Download(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  EnsureStaging();
  Activate();
  const char* from = static_cast<const char*>(src);
  char* to = static_cast<char*>(dst);
  const size_t chunks = (bytes + kStagingChunk - 1) / kStagingChunk;
  // Chunk i is copied out on the host while chunk i + 1 is in flight on the device.
  for (size_t i = 0; i <= chunks; i++) {
    if (i < chunks) {
      const size_t offset = i * kStagingChunk;
      const size_t n = std::min(kStagingChunk, bytes - offset);
      TESSERA_CUDA_CHECK(cudaMemcpyAsync(staging_[i % 2], from + offset, n, cudaMemcpyDeviceToHost, stream_));
      TESSERA_CUDA_CHECK(cudaEventRecord(staging_done_[i % 2], stream_));
    }
    if (i > 0) {
      const size_t prev = i - 1;
      const size_t offset = prev * kStagingChunk;
      const size_t n = std::min(kStagingChunk, bytes - offset);
      TESSERA_CUDA_CHECK(cudaEventSynchronize(staging_done_[prev % 2]));
      std::memcpy(to + offset, staging_[prev % 2], n);
    }
  }
}

CudaDevice::PendingRead CudaDevice::EnqueueRead(const void* src, size_t bytes) {
  PendingRead read;
  read.bytes = bytes;
  if (bytes == 0) return read;
  Activate();
  read.pinned = pinned_->Allocate(bytes, "pinned read buffer on cuda:" + std::to_string(index_));
  try {
    TESSERA_CUDA_CHECK(cudaEventCreateWithFlags(&read.done, cudaEventDisableTiming));
    TESSERA_CUDA_CHECK(cudaMemcpyAsync(read.pinned, src, bytes, cudaMemcpyDeviceToHost, stream_));
    TESSERA_CUDA_CHECK(cudaEventRecord(read.done, stream_));
  } catch (...) {
    if (read.done != nullptr) cudaEventDestroy(read.done);
    pinned_->Free(read.pinned);
    throw;
  }
  return read;
}

void CudaDevice::WaitRead(const PendingRead& read) {
  if (read.done == nullptr) return;
  TESSERA_CUDA_CHECK(cudaEventSynchronize(read.done));
}

void CudaDevice::FinishRead(PendingRead& read, void* dst) {
  if (dst != nullptr && read.pinned != nullptr) std::memcpy(dst, read.pinned, read.bytes);
  if (read.done != nullptr) cudaEventDestroy(read.done);
  pinned_->Free(read.pinned);
  read = PendingRead{};
}

void CudaDevice::Synchronize() {
  Activate();
  TESSERA_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

double CudaDevice::CopyMilliseconds(size_t bytes, int iterations) {
  Activate();
  void* a = Allocate(bytes, "copy probe");
  void* b = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  std::vector<float> times;
  try {
    b = Allocate(bytes, "copy probe");
    TESSERA_CUDA_CHECK(cudaMemsetAsync(a, 1, bytes, stream_));
    TESSERA_CUDA_CHECK(cudaEventCreate(&start));
    TESSERA_CUDA_CHECK(cudaEventCreate(&stop));
    TESSERA_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, stream_));  // warm-up
    for (int i = 0; i < iterations; i++) {
      TESSERA_CUDA_CHECK(cudaEventRecord(start, stream_));
      TESSERA_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, stream_));
      TESSERA_CUDA_CHECK(cudaEventRecord(stop, stream_));
      TESSERA_CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      TESSERA_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      times.push_back(ms);
    }
  } catch (...) {
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    Free(a);
    Free(b);
    throw;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  Free(a);
  Free(b);
  std::sort(times.begin(), times.end());
  return times.empty() ? 0.0 : times[times.size() / 2];
}

}  // namespace tessera
