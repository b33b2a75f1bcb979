#include "core/buffer.h"

#include <algorithm>
#include <cstdlib>
#include <vector>
#include <mutex>
#include <new>
#include <unordered_map>

namespace tessera {
namespace {

struct Allocation {
  void* data;
  size_t bytes;
  size_t block;  // the size class actually allocated
};

// Freed blocks are kept by size class and handed out again: training loops allocate the
// same sizes every step, and returning big blocks to the OS (munmap) only to fault fresh
// zeroed pages back in on the next step costs more than the kernels themselves.
constexpr size_t kDefaultCacheLimit = size_t{1} << 30;

size_t SizeClass(size_t bytes) {
  size_t rounded = (std::max<size_t>(bytes, 1) + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  if (rounded <= 4096) return rounded;
  // Above a page: steps of 1/8 of the enclosing power of two (at most 12.5% slack), so
  // tensors of nearly equal size share blocks.
  size_t pow2 = size_t{1} << (63 - __builtin_clzll(rounded - 1) + 1);
  size_t step = pow2 / 8;
  return (rounded + step - 1) / step * step;
}

size_t CacheLimitFromEnv() {
  if (const char* env = std::getenv("TESSERA_HOST_CACHE_MB")) {
    char* end = nullptr;
    unsigned long long mb = std::strtoull(env, &end, 10);
    if (end != env) return static_cast<size_t>(mb) << 20;
  }
  return kDefaultCacheLimit;
}

struct Registry {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> cache;  // size class -> free blocks
  size_t cached_bytes = 0;
  size_t cache_limit = CacheLimitFromEnv();
  std::unordered_map<uint64_t, Allocation> by_id;
  std::unordered_map<const void*, uint64_t> by_data;
  uint64_t next_id = 1;
  size_t live_bytes = 0;
  size_t total_allocations = 0;
};

Registry& GetRegistry() {
  // Leaked on purpose: GC finalizers may run during process teardown, after static
  // destructors would have torn a normal static down.
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace

void* AllocateBuffer(size_t bytes, uint64_t* id) {
  size_t block = SizeClass(bytes);
  Registry& r = GetRegistry();
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.cache.find(block);
    if (it != r.cache.end() && !it->second.empty()) {
      data = it->second.back();
      it->second.pop_back();
      r.cached_bytes -= block;
    }
  }
  if (data == nullptr) {
    data = std::aligned_alloc(kBufferAlignment, block);
    if (data == nullptr) {
      // Memory may be sitting in the cache: give it back to the system and try once more.
      TrimBufferCache();
      data = std::aligned_alloc(kBufferAlignment, block);
      if (data == nullptr) throw std::bad_alloc();
    }
  }
  std::lock_guard<std::mutex> lock(r.mutex);
  *id = r.next_id++;
  r.by_id.emplace(*id, Allocation{data, bytes, block});
  r.by_data.emplace(data, *id);
  r.live_bytes += bytes;
  r.total_allocations++;
  return data;
}

bool FreeBuffer(uint64_t id) {
  Registry& r = GetRegistry();
  void* data;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.by_id.find(id);
    if (it == r.by_id.end()) return false;
    data = it->second.data;
    size_t block = it->second.block;
    r.live_bytes -= it->second.bytes;
    r.by_data.erase(data);
    r.by_id.erase(it);
    if (r.cached_bytes + block <= r.cache_limit) {
      r.cache[block].push_back(data);
      r.cached_bytes += block;
      return true;
    }
  }
  std::free(data);
  return true;
}

void TrimBufferCache() {
  Registry& r = GetRegistry();
  std::unordered_map<size_t, std::vector<void*>> blocks;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    blocks.swap(r.cache);
    r.cached_bytes = 0;
  }
  for (auto& entry : blocks) {
    for (void* p : entry.second) std::free(p);
  }
}

uint64_t FindBuffer(const void* data) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.by_data.find(data);
  return it == r.by_data.end() ? 0 : it->second;
}

BufferStats GetBufferStats() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return BufferStats{r.by_id.size(), r.live_bytes, r.total_allocations, r.cached_bytes};
}

}  // namespace tessera
