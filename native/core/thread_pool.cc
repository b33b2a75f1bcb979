#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {
namespace {

thread_local bool in_worker = false;

class Pool {
 public:
  explicit Pool(int threads) { Start(threads); }
  ~Pool() { Stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void Resize(int threads) {
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    Stop();
    Start(threads);
  }

  void Run(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
    // One parallel region at a time: callers from several JS threads take turns.
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      n_ = n;
      chunk_ = chunk;
      next_.store(0);
      pending_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      generation_++;
    }
    wake_.notify_all();
    // The caller works too; while it does, a nested ParallelFor must run inline.
    in_worker = true;
    Work();
    in_worker = false;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void Start(int threads) {
    stopping_ = false;
    for (int i = 1; i < threads; i++) workers_.emplace_back([this] { Loop(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void Work() {
    for (;;) {
      int64_t begin = next_.fetch_add(chunk_);
      if (begin >= n_) return;
      int64_t end = std::min(n_, begin + chunk_);
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void Loop() {
    in_worker = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      Work();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_--;
      }
      done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_{0};
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
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
  int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, threads * 4);
  int64_t chunk = (n + chunks - 1) / chunks;
  pool.Run(n, chunk, fn);
}

}  // namespace tessera
