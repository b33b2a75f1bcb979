// A caching allocator over a raw device allocator: freed blocks go to a free list of their
// size class and are handed out again, so steady-state training and inference make no raw
// allocation per op. It knows nothing about CUDA (the raw allocator is an interface), which
// lets the tests run its bookkeeping against a mock on machines without a GPU.
//
// Reuse is safe without events because every block of a device is used on that device's
// one stream: a block freed while a kernel still reads it can only be handed to work
// enqueued after that kernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/errors.h"

namespace tessera {

class RawDeviceAllocator {
 public:
  virtual ~RawDeviceAllocator() = default;
  // nullptr when the device is out of memory; throws for any other failure.
  virtual void* Allocate(size_t bytes) = 0;
  virtual void Release(void* p) = 0;
};

struct AllocatorStats {
  size_t live_bytes = 0;      // size-class bytes of blocks handed out and not freed
  size_t live_blocks = 0;
  size_t cached_bytes = 0;    // freed blocks kept for reuse
  size_t cached_blocks = 0;
  size_t peak_live_bytes = 0;
  uint64_t raw_allocations = 0;  // calls into the raw allocator
  uint64_t reuses = 0;           // requests served from a free list
};

class CachingAllocator {
 public:
  // The smallest block; also the alignment unit of every size class.
  static constexpr size_t kMinBlock = 256;

  explicit CachingAllocator(RawDeviceAllocator* raw) : raw_(raw) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  ~CachingAllocator() { Trim(); }

  // Four classes per power of two (2^k, 1.25, 1.5, 1.75 * 2^k), at least kMinBlock: at most
  // 25% of a block is slack, and a tensor of nearly the same size reuses the block.
  static size_t SizeClass(size_t bytes) {
    if (bytes <= kMinBlock) return kMinBlock;
    size_t pow2 = kMinBlock;
    while (pow2 * 2 <= bytes) pow2 *= 2;
    if (pow2 == bytes) return bytes;
    const size_t quarter = pow2 / 4;
    return pow2 + ((bytes - pow2 + quarter - 1) / quarter) * quarter;
  }

  // A block of at least `bytes` (nullptr for 0 bytes). Out of memory, the cache is released
  // and the raw allocation tried once more before the error.
  void* Allocate(size_t bytes, const std::string& what) {
    if (bytes == 0) return nullptr;
    const size_t size = SizeClass(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto list = free_.find(size);
    void* p = nullptr;
    if (list != free_.end() && !list->second.empty()) {
      p = list->second.back();
      list->second.pop_back();
      stats_.cached_bytes -= size;
      stats_.cached_blocks--;
      stats_.reuses++;
    } else {
      p = raw_->Allocate(size);
      if (p == nullptr) {
        TrimLocked();
        p = raw_->Allocate(size);
      }
      if (p == nullptr) {
        throw Error(what + ": out of device memory allocating " + std::to_string(bytes) + " bytes (" +
                    std::to_string(stats_.live_bytes) + " bytes live in " + std::to_string(stats_.live_blocks) +
                    " blocks)");
      }
      stats_.raw_allocations++;
    }
    live_[p] = size;
    stats_.live_bytes += size;
    stats_.live_blocks++;
    if (stats_.live_bytes > stats_.peak_live_bytes) stats_.peak_live_bytes = stats_.live_bytes;
    return p;
  }

  // Returns a block to its free list. False for nullptr and for pointers this allocator
  // did not hand out (or that were freed already).
  bool Free(void* p) {
    if (p == nullptr) return false;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return false;
    const size_t size = it->second;
    live_.erase(it);
    stats_.live_bytes -= size;
    stats_.live_blocks--;
    free_[size].push_back(p);
    stats_.cached_bytes += size;
    stats_.cached_blocks++;
    return true;
  }

  // Releases every cached block to the raw allocator.
  void Trim() {
    std::lock_guard<std::mutex> lock(mu_);
    TrimLocked();
  }

  AllocatorStats Stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  void TrimLocked() {
    for (auto& entry : free_) {
      for (void* p : entry.second) raw_->Release(p);
    }
    free_.clear();
    stats_.cached_bytes = 0;
    stats_.cached_blocks = 0;
  }

  RawDeviceAllocator* raw_;
  mutable std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  std::unordered_map<void*, size_t> live_;
  AllocatorStats stats_;
};

}  // namespace tessera
