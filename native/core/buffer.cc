#include "core/buffer.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>

namespace tessera {
namespace {

struct Allocation {
  void* data;
  size_t bytes;
};

struct Registry {
  std::mutex mutex;
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
  size_t rounded = ((bytes == 0 ? 1 : bytes) + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  void* data = std::aligned_alloc(kBufferAlignment, rounded);
  if (data == nullptr) throw std::bad_alloc();
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mutex);
  *id = r.next_id++;
  r.by_id.emplace(*id, Allocation{data, bytes});
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
    r.live_bytes -= it->second.bytes;
    r.by_data.erase(data);
    r.by_id.erase(it);
  }
  std::free(data);
  return true;
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
  return BufferStats{r.by_id.size(), r.live_bytes, r.total_allocations};
}

}  // namespace tessera
