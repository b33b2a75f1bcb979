// A fixed pool of worker threads for data-parallel kernels. Sized to the machine
// (std::thread::hardware_concurrency), overridden by TESSERA_NUM_THREADS.
#pragma once
#include <cstdint>
#include <functional>

namespace tessera {

int NumThreads();
// Changes the pool size (1 means run everything on the calling thread).
void SetNumThreads(int n);

// Splits [0, n) into contiguous chunks of at least `grain` items and runs fn(begin, end)
// on them across the pool; the calling thread takes part. Runs inline when the range is
// small, the pool has one thread, or the caller is already a pool worker (nesting).
void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace tessera
