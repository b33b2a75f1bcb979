// One CUDA device (cuda:0..N): its stream, its caching allocator and its pinned staging
// buffers. Work is asynchronous on the stream; the host waits only where it reads results
// (Download, Synchronize). Compiled only when the build found a CUDA toolkit.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <string>

#include "cuda/caching_allocator.h"

namespace tessera {

class CudaDevice {
 public:
  // The device at `index`, created on first use; throws the probe's reason when there is
  // no CUDA device, and names the valid range for a bad index.
  static CudaDevice& Get(int index);
  static int Count();

  CudaDevice(const CudaDevice&) = delete;
  CudaDevice& operator=(const CudaDevice&) = delete;

  int index() const { return index_; }
  cudaStream_t stream() const { return stream_; }
  const cudaDeviceProp& props() const { return props_; }
  // Makes this device current for the calling thread (kernel launches need it).
  void Activate() const;

  void* Allocate(size_t bytes, const std::string& what);
  bool Free(void* p);
  AllocatorStats Stats() const { return allocator_->Stats(); }
  void Trim();

  // Host -> device through pinned staging; returns once the host data is copied out, before
  // the device copy completes.
  void Upload(void* dst, const void* src, size_t bytes);
  // Device -> host through pinned staging; waits for the stream (the one sync point of a read).
  void Download(void* dst, const void* src, size_t bytes);

  // A read that does not block the caller: Enqueue (on the JS thread, so that the copy is
  // ordered before any later reuse of `src`) copies into a pinned block of its own; Wait
  // (on any thread) waits for that copy alone; Finish (JS thread) copies out and releases.
  struct PendingRead {
    void* pinned = nullptr;
    size_t bytes = 0;
    cudaEvent_t done = nullptr;
  };
  PendingRead EnqueueRead(const void* src, size_t bytes);
  void WaitRead(const PendingRead& read);
  void FinishRead(PendingRead& read, void* dst);
  void Synchronize();

  // Device-to-device copy time of `bytes` (median of `iterations` copies, CUDA events), the
  // bandwidth ceiling that the benchmark sets elementwise kernels beside.
  double CopyMilliseconds(size_t bytes, int iterations);

 private:
  explicit CudaDevice(int index);
  void EnsureStaging();

  int index_;
  cudaDeviceProp props_{};
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<RawDeviceAllocator> raw_;
  std::unique_ptr<CachingAllocator> allocator_;
  // Pinned host blocks for the pending reads, cached by size class like device memory.
  std::unique_ptr<RawDeviceAllocator> pinned_raw_;
  std::unique_ptr<CachingAllocator> pinned_;
  // Two pinned halves so that one chunk is copied on the host while the other is in flight.
  static constexpr size_t kStagingChunk = size_t{16} << 20;
  void* staging_[2] = {nullptr, nullptr};
  cudaEvent_t staging_done_[2] = {nullptr, nullptr};
};

}  // namespace tessera
