// Host memory owned by the addon: 64-byte aligned (a cache line, one AVX-512 vector) so
// kernels can use aligned loads and threads never share a line at a buffer's start.
// Freed blocks are cached by size class for reuse (TESSERA_HOST_CACHE_MB caps the cache,
// default 1024). Every allocation is registered so that the live count is exact; the JS side releases
// buffers explicitly (tfjs disposeData) and the GC finalizer only covers buffers a user
// dropped without releasing.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tessera {

constexpr size_t kBufferAlignment = 64;

struct BufferStats {
  size_t live_buffers;
  size_t live_bytes;
  size_t total_allocations;
  size_t cached_bytes;  // freed blocks kept for reuse (not live)
};

// Returns a registered allocation of at least one byte (so empty tensors still get a
// distinct pointer); `id` receives the registry key.
void* AllocateBuffer(size_t bytes, uint64_t* id);
// Frees the allocation registered under `id`. Returns false if it was already freed.
bool FreeBuffer(uint64_t id);
// The registry key for a data pointer, or 0 if the pointer is not a live Tessera buffer.
uint64_t FindBuffer(const void* data);
BufferStats GetBufferStats();
// Returns every cached free block to the system.
void TrimBufferCache();

}  // namespace tessera
