#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {
namespace {

thread_local bool in_worker = false;

// How long a worker polls for the next parallel region before it sleeps, and how long the
// caller polls for the last chunks before it sleeps. On the 2-core KVM guest this was tuned
// on, a worker woken through the condition variable started its first chunk 17 to 24 µs
// (median) after the caller published the region, and the caller then also waited for it to
// check in: about a whole 1M-element add (50 µs on two cores). A polling worker starts within
// 1 µs. tfjs spends about 10 µs between back-to-back kernels, so polling for a bounded while
// catches them; a process that goes idle polls for this long once, then sleeps.
constexpr auto kSpin = std::chrono::microseconds(100);

// Polls ready() until it holds or kSpin has passed; returns ready()'s last value. Between
// polls the thread yields its core: on an idle core that returns at once, and on a shared one
// it lets other threads run, including a pool thread that holds the chunk being waited for.
// (Measured on the shared guest with the other core busy: the sum of 4M floats took 0.19 ms
// polling with yields against 0.21 ms polling with pause instructions and 0.20 ms sleeping.)
template <typename F>
bool SpinUntil(F&& ready) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() - start > kSpin) return ready();
    std::this_thread::yield();
  }
}

// One parallel region at a time. Work is handed out in chunks through one atomic word that
// holds the region's generation, its chunk count and the next unclaimed chunk: a thread that
// claims a chunk knows the region is still running (it cannot finish before that chunk
// does), and a thread that arrives late for a region finds its generation gone and claims
// nothing. So the caller waits for the chunks, never for a worker that has not woken up yet.
class Pool {
 public:
  static constexpr int64_t kMaxChunks = 0xffff;

  explicit Pool(int threads) { Start(threads); }
  ~Pool() { Stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void Resize(int threads) {
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    Stop();
    Start(threads);
  }

  void Run(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t)>& fn) {
    // Callers from several JS threads take turns.
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    fn_ = &fn;
    n_ = n;
    chunks_ = chunks;
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    generation_ = (generation_ + 1) & kGenerationMask;
    const uint64_t claim = generation_ << kGenerationShift | static_cast<uint64_t>(chunks) << kCountShift;
    claim_.store(claim);  // seq_cst: ordered before the sleepers_ load below
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    // The caller works too; while it does, a nested ParallelFor must run inline.
    in_worker = true;
    Work(generation_);
    in_worker = false;
    const auto all_done = [&] { return done_.load(std::memory_order_acquire) == chunks; };
    if (!SpinUntil(all_done)) {
      std::unique_lock<std::mutex> lock(mutex_);
      caller_waiting_.store(true);
      finished_.wait(lock, all_done);
      caller_waiting_.store(false);
    }
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr int kCountShift = 16;
  static constexpr int kGenerationShift = 32;
  static constexpr uint64_t kIndexMask = 0xffff;
  static constexpr uint64_t kGenerationMask = 0xffffffff;

  void Start(int threads) {
    stopping_.store(false);
    for (int i = 1; i < threads; i++) workers_.emplace_back([this] { Loop(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Claims and runs chunks of region `generation` until none is left.
  void Work(uint64_t generation) {
    uint64_t c = claim_.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t index = c & kIndexMask;
      if ((c >> kGenerationShift) != generation || index >= ((c >> kCountShift) & kIndexMask)) return;
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_acquire)) continue;
      // The region's fields stay put until this chunk is counted done, not after.
      const int64_t chunks = chunks_;
      const int64_t chunk = (n_ + chunks - 1) / chunks;
      const int64_t begin = static_cast<int64_t>(index) * chunk;
      const int64_t end = std::min(n_, begin + chunk);
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      // seq_cst: ordered before the caller_waiting_ load, against the caller's store of it
      // before it checks done_ again.
      if (done_.fetch_add(1) + 1 == chunks && caller_waiting_.load()) {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_.notify_one();
      }
      c = claim_.load(std::memory_order_acquire);
    }
  }

  void Loop() {
    in_worker = true;
    uint64_t seen = 0;
    const auto generation = [&] { return claim_.load(std::memory_order_acquire) >> kGenerationShift; };
    const auto woken = [&] { return stopping_.load() || generation() != seen; };
    for (;;) {
      if (!SpinUntil(woken)) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);  // seq_cst: ordered before woken()'s claim_ load
        wake_.wait(lock, woken);
        sleepers_.fetch_sub(1);
      }
      if (stopping_.load()) return;
      seen = generation();
      Work(seen);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  // The running region: written by the caller before it publishes claim_, read by the
  // threads that claim one of its chunks.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t chunks_ = 1;
  uint64_t generation_ = 0;
  std::exception_ptr error_;
  // generation << 32 | chunk count << 16 | next chunk index.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_waiting_{false};
  std::atomic<bool> stopping_{false};
};

int DefaultThreads() {
  if (const char* env = std::getenv("TESSERA_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

Pool& GetPool() {
  // Leaked on purpose: joining threads from a static destructor at exit can deadlock.
  static Pool* pool = new Pool(DefaultThreads());
  return *pool;
}

}  // namespace

int NumThreads() { return GetPool().size(); }

void SetNumThreads(int n) { GetPool().Resize(std::max(1, n)); }

void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  Pool& pool = GetPool();
  int threads = pool.size();
  if (in_worker || threads == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  // A few chunks per thread balance uneven work without paying for many tiny chunks.
  int64_t chunks = std::min<int64_t>({(n + grain - 1) / grain, int64_t{threads} * 4, Pool::kMaxChunks});
  // Chunks of equal size: the last chunk index must map to a non-empty range.
  const int64_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
  pool.Run(n, chunks, fn);
}

}  // namespace tessera
