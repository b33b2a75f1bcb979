#ifdef TESSERA_WITH_MPI
#include "comm/mpi_comm.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/buffer.h"
#include "core/errors.h"

namespace tessera {
namespace comm {
namespace {

// Ranks disagreeing on a collective: every rank throws it, no data moved, and the
// communicator stays usable.
class HeaderMismatch : public Error {
 public:
  using Error::Error;
};

// Header messages use their own tag on the algorithm communicator; data tags stay below it.
constexpr int kHeaderTag = 0x7ffe;
// Above this many ranks the header exchange is one MPI_Iallgather (O(1) messages per rank
// instead of O(size)), which cannot tell which rank failed to arrive.
constexpr int kDirectHeaderMaxRanks = 64;

// MPI lives on its own thread, which initializes it and, at exit, finalizes it (the MPI
// standard wants both on one thread): MPI_Init waits for every rank, and a rank that never
// starts MPI must not freeze the JS thread, where no timeout could fire.
enum class MpiState { kNone, kStarting, kReady, kFailed };
std::mutex g_mutex;
std::condition_variable g_mpi_cv;
MpiState g_state = MpiState::kNone;
std::string g_init_error;
bool g_finalize_requested = false;
bool g_skip_finalize = false;
bool g_finalized = false;
int g_thread_level = 0;
std::thread g_mpi_thread;
std::shared_ptr<Communicator> g_world;
std::vector<std::weak_ptr<Communicator>> g_comms;
// Broken communicators are kept (with their scratch memory) for the life of the process:
// requests left outstanding after a timeout may still write into them.
std::vector<std::shared_ptr<Communicator>> g_broken;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Register(const std::shared_ptr<Communicator>& c) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_comms.erase(std::remove_if(g_comms.begin(), g_comms.end(), [](auto& w) { return w.expired(); }), g_comms.end());
  g_comms.push_back(c);
}

MPI_Op MpiOp(ReduceOp op, DType dtype) {
  if (dtype == DType::kBool) return (op == ReduceOp::kSum || op == ReduceOp::kMax) ? MPI_LOR : MPI_LAND;
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kMean: return MPI_SUM;
    case ReduceOp::kMax: return MPI_MAX;
    case ReduceOp::kMin: return MPI_MIN;
    case ReduceOp::kProd: return MPI_PROD;
  }
  return MPI_SUM;
}

}  // namespace

void CheckMpi(int rc, const char* op, const char* call, const char* file, int line) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  std::string name(call);
  name = name.substr(0, name.find('('));
  throw Error(std::string(op) + ": " + name + " failed: " + std::string(text, len) + " (" + file + ":" +
              std::to_string(line) + ")");
}

MPI_Datatype MpiType(DType d) {
  switch (d) {
    case DType::kFloat32: return MPI_FLOAT;
    case DType::kInt32: return MPI_INT32_T;
    case DType::kBool: return MPI_UINT8_T;
  }
  return MPI_BYTE;
}

void MpiMain() {
  int already = 0;
  MPI_Initialized(&already);
  int provided = 0;
  int rc = MPI_SUCCESS;
  if (already) MPI_Query_thread(&provided);
  else rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_thread_level = provided;
    if (rc != MPI_SUCCESS) {
      g_state = MpiState::kFailed;
      g_init_error = "mpi: MPI_Init_thread failed (error " + std::to_string(rc) + ")";
    } else if (provided < MPI_THREAD_MULTIPLE) {
      g_state = MpiState::kFailed;
      g_init_error = "mpi: the MPI library gives thread level " + std::to_string(provided) +
                     "; Tessera needs MPI_THREAD_MULTIPLE (each communicator has its own progress thread): "
                     "use an MPI built with thread support (Open MPI: the default since 3.0)";
    } else {
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      g_state = MpiState::kReady;
    }
  }
  g_mpi_cv.notify_all();
  std::unique_lock<std::mutex> lock(g_mutex);
  g_mpi_cv.wait(lock, [] { return g_finalize_requested; });
  // MPI_Finalize synchronizes with the other ranks; after a failure some of them are gone.
  if (rc == MPI_SUCCESS && !already && !g_skip_finalize) {
    lock.unlock();
    MPI_Finalize();
    lock.lock();
  }
  g_finalized = true;
}

void StartMpi() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_finalize_requested) throw Error("mpi: MPI was already shut down (the process is exiting)");
  if (g_state != MpiState::kNone) return;
  g_state = MpiState::kStarting;
  g_mpi_thread = std::thread(MpiMain);
  std::atexit(ShutdownMpi);
}

void WaitForMpi(const char* op, int64_t timeout_ms, const std::atomic<bool>& stopping) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock<std::mutex> lock(g_mutex);
  while (g_state == MpiState::kStarting && !stopping.load() && std::chrono::steady_clock::now() < deadline) {
    g_mpi_cv.wait_for(lock, std::chrono::milliseconds(20));
  }
  if (g_state == MpiState::kReady) return;
  if (g_state == MpiState::kFailed) throw Error(std::string(op) + ": " + g_init_error);
  if (stopping.load()) throw Error(std::string(op) + ": interrupted: the process is exiting");
  throw Error(std::string(op) + ": MPI_Init did not complete within " + std::to_string(timeout_ms / 1000.0).substr(0, 5) +
              " s: it waits for every rank to start MPI (on its first Tessera collective); a rank may have died, "
              "or not reached its first collective (the timeout is the communicator's timeoutMs option, or TESSERA_COMM_TIMEOUT_MS)");
}

MpiInfo GetMpiInfo() {
  MpiInfo info{};
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    info.initialized = g_state == MpiState::kReady;
    info.finalized = g_finalized;
  }
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(lib, &len);
  info.library = std::string(lib, len);
  info.library = info.library.substr(0, info.library.find_first_of(",\n"));
  MPI_Get_version(&info.version, &info.subversion);
  info.thread_level = g_thread_level;
  return info;
}

void ShutdownMpi() {
  std::vector<std::shared_ptr<Communicator>> live;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_state == MpiState::kNone || g_finalize_requested) return;
    for (auto& w : g_comms) {
      if (auto c = w.lock()) live.push_back(c);
    }
  }
  bool broken = false;
  for (auto& c : live) {
    c->Stop();
    broken = broken || c->broken();
  }
  bool started;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_skip_finalize = broken;
    g_finalize_requested = true;
    started = g_state != MpiState::kStarting;
  }
  g_mpi_cv.notify_all();
  if (!g_mpi_thread.joinable()) return;
  // A thread still inside MPI_Init (a rank never came) cannot be joined: exit ends it.
  if (started) g_mpi_thread.join();
  else g_mpi_thread.detach();
}

std::shared_ptr<Communicator> Communicator::World(int rank, int size) {
  StartMpi();
  std::shared_ptr<Communicator> w;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    w = g_world;
  }
  if (w) return w;
  w = std::make_shared<Communicator>(MPI_COMM_WORLD, true, rank, size);
  Register(w);
  std::lock_guard<std::mutex> lock(g_mutex);
  g_world = w;
  return w;
}

Communicator::Communicator(MPI_Comm comm, bool world, int rank, int size)
    : comm_(comm), algo_comm_(MPI_COMM_NULL), world_(world), rank_(rank), size_(size) {
  // World waits for MPI_Init on its progress thread (Connect); the others are made by a split,
  // after it.
  if (!world_) StartConnect();
  thread_ = std::thread([this] { Loop(); });
}

void Communicator::StartConnect() {
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  TESSERA_MPI(MPI_Comm_rank(comm_, &rank), "communicator");
  TESSERA_MPI(MPI_Comm_size(comm_, &size), "communicator");
  if (world_ && (rank != rank_.load() || size != size_.load())) {
    throw Error("world: MPI reports rank " + std::to_string(rank) + " of " + std::to_string(size) + " but the launcher's environment said " +
                std::to_string(rank_.load()) + " of " + std::to_string(size_.load()) +
                ": was the process started by another MPI than the one Tessera was built with?");
  }
  rank_.store(rank);
  size_.store(size);
  // A non-blocking dup: Connect waits for it (with a deadline) before the first op.
  TESSERA_MPI(MPI_Comm_idup(comm_, &algo_comm_, &dup_), "communicator");
}

void Communicator::Connect(const char* op, int64_t timeout_ms) {
  if (connected_) return;
  timeout_ms_ = timeout_ms;
  if (world_ && dup_ == MPI_REQUEST_NULL && algo_comm_ == MPI_COMM_NULL) {
    WaitForMpi(op, timeout_ms, stopping_);
    StartConnect();
  }
  Poller p(*this, op);
  p.WaitAll(&dup_, 1, [] { return std::string("every rank to create the communicator (MPI_Comm_idup)"); });
  MPI_Comm_set_errhandler(algo_comm_, MPI_ERRORS_RETURN);
  connected_ = true;
}

Communicator::~Communicator() { Stop(); }

struct Communicator::P2p {
  bool is_send;
  OpArgs args;
  Done done;
  int64_t words[Header::kWords];
  MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  bool data_posted = false;  // recv: the header arrived and the data receive is posted
  OpResult result;
  int64_t last_progress_ns = 0;
};

void Communicator::Loop() {
  int idle = 0;
  for (;;) {
    std::function<void()> job;
    std::vector<std::unique_ptr<P2p>> fresh;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (p2p_.empty()) {
        wake_.wait(lock, [&] { return stop_requested_ || !queue_.empty() || !p2p_queue_.empty(); });
      }
      if (stop_requested_ && queue_.empty() && p2p_queue_.empty() && (p2p_.empty() || stopping_)) break;
      while (!p2p_queue_.empty()) {
        fresh.push_back(std::move(p2p_queue_.front()));
        p2p_queue_.pop_front();
      }
      if (!queue_.empty()) {
        job = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    for (auto& p : fresh) {
      try {
        Connect(p->is_send ? "send" : "recv", p->args.timeout_ms);
      } catch (const std::exception& e) {
        if (!broken_) Fail(e.what());
      }
      p2p_.push_back(std::move(p));
      StartP2p(*p2p_.back());
    }
    if (job) job();
    const bool progressed = ProgressP2p();
    if (job || progressed) {
      idle = 0;
    } else if (!p2p_.empty()) {
      // Messages in flight and nothing else to do: poll, yielding the core, then sleeping briefly.
      if (++idle > 64) {
        if (idle < 20000) sched_yield();
        else std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
  }
  for (auto& p : p2p_) p->done(std::string(p->is_send ? "send" : "recv") + ": interrupted: the process is exiting", OpResult());
  p2p_.clear();
  // Freeing is local in practice (a reference count), so it is safe while peers still run.
  if (!broken_ && connected_ && comm_ != MPI_COMM_WORLD) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
      if (algo_comm_ != MPI_COMM_NULL) MPI_Comm_free(&algo_comm_);
      MPI_Comm_free(&comm_);
    }
  }
}

void Communicator::Fail(const std::string& error) {
  broken_reason_ = error;
  broken_.store(true);
  std::lock_guard<std::mutex> lock(g_mutex);
  g_broken.push_back(shared_from_this());
}

namespace {
// Point-to-point messages from the user: tag 2t carries the header (dtype and shape), 2t+1 the data.
std::string MessageName(const Header& h) { return std::string(DTypeName(h.dtype)) + " " + ShapeToString(h.shape); }
}  // namespace

void Communicator::SubmitSend(OpArgs args, Done done) {
  auto p = std::make_unique<P2p>();
  p->is_send = true;
  p->args = std::move(args);
  p->done = std::move(done);
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_requested_) throw Error("send: the communicator was freed");
  p2p_queue_.push_back(std::move(p));
  wake_.notify_one();
}

void Communicator::SubmitRecv(OpArgs args, Done done) {
  auto p = std::make_unique<P2p>();
  p->is_send = false;
  p->args = std::move(args);
  p->done = std::move(done);
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_requested_) throw Error("recv: the communicator was freed");
  p2p_queue_.push_back(std::move(p));
  wake_.notify_one();
}

void Communicator::StartP2p(P2p& p) {
  p.last_progress_ns = NowNs();
  if (broken_) return;  // ProgressP2p fails it
  const OpArgs& a = p.args;
  const char* op = p.is_send ? "send" : "recv";
  try {
    if (p.is_send) {
      a.header.Encode(p.words);
      TESSERA_MPI(MPI_Isend(p.words, Header::kWords, MPI_INT64_T, a.peer, 2 * a.tag, comm_, &p.req[0]), op);
      if (a.count > 0) {
        TESSERA_MPI(MPI_Isend(a.in, static_cast<int>(a.count), MpiType(a.header.dtype), a.peer, 2 * a.tag + 1, comm_, &p.req[1]), op);
      }
    } else {
      TESSERA_MPI(MPI_Irecv(p.words, Header::kWords, MPI_INT64_T, a.peer, 2 * a.tag, comm_, &p.req[0]), op);
    }
  } catch (const std::exception& e) {
    Fail(e.what());
  }
}

bool Communicator::ProgressP2p() {
  bool any = false;
  const int64_t now = p2p_.empty() ? 0 : NowNs();
  for (size_t i = 0; i < p2p_.size();) {
    P2p& p = *p2p_[i];
    const OpArgs& a = p.args;
    const char* op = p.is_send ? "send" : "recv";
    std::string error;
    bool finished = false;
    try {
      if (broken_) throw Error(std::string(op) + ": the communicator is broken by an earlier failure (" + broken_reason_ + ")");
      if (stopping_) throw Error(std::string(op) + ": interrupted: the process is exiting");
      for (MPI_Request& r : p.req) {
        if (r == MPI_REQUEST_NULL) continue;
        int flag = 0;
        TESSERA_MPI(MPI_Test(&r, &flag, MPI_STATUS_IGNORE), op);
        if (flag) {
          any = true;
          p.last_progress_ns = now;
        }
      }
      if (!p.is_send && !p.data_posted && p.req[0] == MPI_REQUEST_NULL) {
        Header h = Header::Decode(p.words);
        p.result.dtype = h.dtype;
        p.result.shape = h.shape;
        p.data_posted = true;
        const int64_t n = ShapeSize(h.shape);
        if (n > 0) {
          p.result.buffer = AllocateBuffer(n * DTypeSize(h.dtype), &p.result.buffer_id);
          TESSERA_MPI(MPI_Irecv(p.result.buffer, static_cast<int>(n), MpiType(h.dtype), a.peer, 2 * a.tag + 1, comm_, &p.req[1]), op);
        }
      }
      finished = p.req[0] == MPI_REQUEST_NULL && p.req[1] == MPI_REQUEST_NULL;
      if (!finished && (now - p.last_progress_ns) / 1000000 >= a.timeout_ms) {
        const std::string who = p.is_send
            ? "rank " + std::to_string(a.peer) + " to receive " + MessageName(a.header) + " (tag " + std::to_string(a.tag) +
                  "); it may have died, be stuck, or not call recv(" + std::to_string(rank_) + ")"
            : "rank " + std::to_string(a.peer) + " to send (tag " + std::to_string(a.tag) +
                  "); it may have died, be stuck, or not call send";
        throw Error(std::string(op) + ": timed out after " + std::to_string(a.timeout_ms / 1000.0).substr(0, 5) +
                    " s without progress, waiting for " + who +
                    " (the timeout is the communicator's timeoutMs option, or TESSERA_COMM_TIMEOUT_MS)");
      }
    } catch (const std::exception& e) {
      error = e.what();
      if (!broken_) Fail(error);
      // A receive may still land in the buffer later: leave it allocated.
      p.result.buffer = nullptr;
      finished = true;
    }
    if (finished) {
      p.done(error, std::move(p.result));
      p2p_.erase(p2p_.begin() + i);
      any = true;
    } else {
      i++;
    }
  }
  return any;
}

void Communicator::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
}

void Communicator::Stop() {
  RequestStop();
  stopping_.store(true);
  if (!thread_.joinable()) return;
  // The last reference can be dropped on the progress thread itself (by an op's callback).
  if (std::this_thread::get_id() == thread_.get_id()) thread_.detach();
  else thread_.join();
}

void Communicator::Submit(OpArgs args, std::function<void(Communicator&, OpArgs&, OpResult&)> body, Done done) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_requested_) throw Error(std::string(KindName(args.header.kind)) + ": the communicator was freed");
  queue_.push_back([this, args = std::move(args), body = std::move(body), done = std::move(done)]() mutable {
    OpResult result;
    std::string error;
    if (broken_) {
      error = std::string(KindName(args.header.kind)) + ": the communicator is broken by an earlier failure (" +
              broken_reason_ + "); create no further work on it";
    } else {
      try {
        Connect(KindName(args.header.kind), args.timeout_ms);
        timeout_ms_ = args.timeout_ms;
        body(*this, args, result);
      } catch (const HeaderMismatch& e) {
        error = e.what();
      } catch (const std::exception& e) {
        error = e.what();
        Fail(error);
      }
    }
    done(error, std::move(result));
  });
  wake_.notify_one();
}

// Every rank sends its header to every other rank (or, beyond kDirectHeaderMaxRanks ranks,
// one MPI_Iallgather), so a rank that never arrives is named in the timeout error.
void Communicator::ExchangeHeaders(const Header& mine, const char* op) {
  const int W = Header::kWords;
  std::vector<int64_t> all(static_cast<size_t>(size_) * W);
  mine.Encode(&all[static_cast<size_t>(rank_) * W]);
  Poller poll(*this, op);
  const std::string what = mine.Describe() + " (collective #" + std::to_string(mine.seq) + ")";
  if (size_ > kDirectHeaderMaxRanks) {
    MPI_Request req;
    TESSERA_MPI(MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all.data(), W, MPI_INT64_T, algo_comm_, &req), op);
    poll.WaitAll(&req, 1, [&] { return "every rank to call " + what + "; one may have died, be stuck, or have called something else"; });
  } else {
    std::vector<MPI_Request> recvs(size_, MPI_REQUEST_NULL), sends(size_, MPI_REQUEST_NULL);
    const int64_t* my = &all[static_cast<size_t>(rank_) * W];
    for (int p = 0; p < size_; p++) {
      if (p == rank_) continue;
      TESSERA_MPI(MPI_Irecv(&all[static_cast<size_t>(p) * W], W, MPI_INT64_T, p, kHeaderTag, algo_comm_, &recvs[p]), op);
      TESSERA_MPI(MPI_Isend(my, W, MPI_INT64_T, p, kHeaderTag, algo_comm_, &sends[p]), op);
    }
    poll.WaitAll(recvs.data(), size_, [&] {
      std::string missing;
      int n = 0;
      for (int p = 0; p < size_; p++) {
        if (recvs[p] != MPI_REQUEST_NULL && n++ < 8) missing += (missing.empty() ? "" : ", ") + std::to_string(p);
      }
      return std::string(n > 1 ? "ranks " : "rank ") + missing + (n > 8 ? ", ..." : "") + " (of " + std::to_string(size_) +
             ") to call " + what + "; " + (n > 1 ? "they" : "it") + " may have died, be stuck, or have called something else";
    });
    poll.WaitAll(sends.data(), size_, [&] { return std::string("the other ranks to take this rank's header"); });
  }
  std::vector<Header> headers;
  headers.reserve(size_);
  for (int p = 0; p < size_; p++) headers.push_back(Header::Decode(&all[static_cast<size_t>(p) * W]));
  try {
    CheckHeaders(headers, op);
  } catch (const Error& e) {
    throw HeaderMismatch(e.what());
  }
}

void Communicator::AllReduce(OpArgs& a) {
  const Header& h = a.header;
  ExchangeHeaders(h, "allReduce");
  const int64_t n = a.count;
  if (n == 0 || size_ == 1) {
    if (a.out != a.in) std::memcpy(a.out, a.in, n * DTypeSize(h.dtype));
    if (h.op == ReduceOp::kMean) FinishMean(h.dtype, a.out, n, size_);
    return;
  }
  const int tag = static_cast<int>(h.seq & 0x3fff);
  switch (h.algorithm) {
    case Algorithm::kMpi: {
      MPI_Request req;
      TESSERA_MPI(MPI_Iallreduce(a.in, a.out, static_cast<int>(n), MpiType(h.dtype), MpiOp(h.op, h.dtype), comm_, &req), "allReduce");
      Poller(*this, "allReduce").WaitAll(&req, 1, [] { return std::string("MPI_Iallreduce to complete (a rank may have died or be stuck)"); });
      break;
    }
    case Algorithm::kMpiBlocking:
      TESSERA_MPI(MPI_Allreduce(a.in, a.out, static_cast<int>(n), MpiType(h.dtype), MpiOp(h.op, h.dtype), comm_), "allReduce");
      break;
    case Algorithm::kRing: RingAllReduce(*this, h.op, h.dtype, a.in, a.out, n, tag); break;
    case Algorithm::kRecursiveDoubling: RecursiveDoublingAllReduce(*this, h.op, h.dtype, a.in, a.out, n, tag); break;
    default: throw Error(std::string("allReduce: algorithm ") + AlgorithmName(h.algorithm) + " is not an allReduce algorithm");
  }
  if (h.op == ReduceOp::kMean) FinishMean(h.dtype, a.out, n, size_);
}

void Communicator::Broadcast(OpArgs& a) {
  const Header& h = a.header;
  ExchangeHeaders(h, "broadcast");
  const int64_t n = a.count;
  if (rank_ == h.root && a.out != a.in) std::memcpy(a.out, a.in, n * DTypeSize(h.dtype));
  if (n == 0 || size_ == 1) return;
  switch (h.algorithm) {
    case Algorithm::kMpi: {
      MPI_Request req;
      TESSERA_MPI(MPI_Ibcast(a.out, static_cast<int>(n), MpiType(h.dtype), static_cast<int>(h.root), comm_, &req), "broadcast");
      Poller(*this, "broadcast").WaitAll(&req, 1, [] { return std::string("MPI_Ibcast to complete (a rank may have died or be stuck)"); });
      break;
    }
    case Algorithm::kMpiBlocking:
      TESSERA_MPI(MPI_Bcast(a.out, static_cast<int>(n), MpiType(h.dtype), static_cast<int>(h.root), comm_), "broadcast");
      break;
    case Algorithm::kTree: TreeBroadcast(*this, h.dtype, a.out, n, static_cast<int>(h.root), static_cast<int>(h.seq & 0x3fff)); break;
    default: throw Error(std::string("broadcast: algorithm ") + AlgorithmName(h.algorithm) + " is not a broadcast algorithm");
  }
}

void Communicator::AllGather(OpArgs& a) {
  const Header& h = a.header;
  ExchangeHeaders(h, "allGather");
  const int64_t n = a.count;
  const size_t es = DTypeSize(h.dtype);
  char* out = static_cast<char*>(a.out);
  std::memcpy(out + rank_ * n * es, a.in, n * es);
  if (n == 0 || size_ == 1) return;
  switch (h.algorithm) {
    case Algorithm::kMpi:
    case Algorithm::kMpiBlocking: {
      if (h.algorithm == Algorithm::kMpiBlocking) {
        TESSERA_MPI(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, static_cast<int>(n), MpiType(h.dtype), comm_), "allGather");
        break;
      }
      MPI_Request req;
      TESSERA_MPI(MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, static_cast<int>(n), MpiType(h.dtype), comm_, &req), "allGather");
      Poller(*this, "allGather").WaitAll(&req, 1, [] { return std::string("MPI_Iallgather to complete (a rank may have died or be stuck)"); });
      break;
    }
    case Algorithm::kRing: RingAllGather(*this, h.dtype, out, n, static_cast<int>(h.seq & 0x3fff)); break;
    default: throw Error(std::string("allGather: algorithm ") + AlgorithmName(h.algorithm) + " is not an allGather algorithm");
  }
}

void Communicator::ReduceScatter(OpArgs& a) {
  const Header& h = a.header;
  ExchangeHeaders(h, "reduceScatter");
  const int64_t n = a.count;
  const size_t es = DTypeSize(h.dtype);
  std::vector<int64_t> off, len;
  SplitRows(h.shape, size_, &off, &len);
  if (size_ == 1 || n == 0) {
    std::memcpy(a.out, a.in, n * es);
  } else {
    switch (h.algorithm) {
      case Algorithm::kMpi:
      case Algorithm::kMpiBlocking: {
        std::vector<int> counts(len.begin(), len.end());
        if (h.algorithm == Algorithm::kMpiBlocking) {
          TESSERA_MPI(MPI_Reduce_scatter(a.in, a.out, counts.data(), MpiType(h.dtype), MpiOp(h.op, h.dtype), comm_), "reduceScatter");
          break;
        }
        MPI_Request req;
        TESSERA_MPI(MPI_Ireduce_scatter(a.in, a.out, counts.data(), MpiType(h.dtype), MpiOp(h.op, h.dtype), comm_, &req), "reduceScatter");
        Poller(*this, "reduceScatter").WaitAll(&req, 1, [] { return std::string("MPI_Ireduce_scatter to complete (a rank may have died or be stuck)"); });
        break;
      }
      case Algorithm::kRing: {
        char* work = Scratch(n * es, 0);
        RingReduceScatter(*this, h.op, h.dtype, a.in, work, off, len, a.out, static_cast<int>(h.seq & 0x3fff));
        break;
      }
      default: throw Error(std::string("reduceScatter: algorithm ") + AlgorithmName(h.algorithm) + " is not a reduceScatter algorithm");
    }
  }
  if (h.op == ReduceOp::kMean) FinishMean(h.dtype, a.out, len[rank_], size_);
}

void Communicator::Barrier(OpArgs& a) { ExchangeHeaders(a.header, "barrier"); }

std::shared_ptr<Communicator> Communicator::Split(OpArgs& a) {
  ExchangeHeaders(a.header, "split");
  // MPI has no non-blocking split; every rank has just answered the header exchange, so it
  // is there to take part.
  MPI_Comm out = MPI_COMM_NULL;
  const int color = a.header.root < 0 ? MPI_UNDEFINED : static_cast<int>(a.header.root);
  TESSERA_MPI(MPI_Comm_split(comm_, color, static_cast<int>(a.header.key), &out), "split");
  if (out == MPI_COMM_NULL) return nullptr;
  auto c = std::make_shared<Communicator>(out, false);
  Register(c);
  return c;
}

char* Communicator::Scratch(size_t bytes, int slot) {
  auto& s = scratch_[slot];
  if (s.size() < bytes) s.resize(bytes);
  return s.data();
}

Poller::Poller(Communicator& c, const char* op) : c_(c), op_(op), last_progress_ns_(NowNs()) {}

void Poller::Progressed() {
  idle_polls_ = 0;
  last_progress_ns_ = NowNs();
}

void Poller::Idle(const std::function<std::string()>& what) {
  idle_polls_++;
  // Spin briefly (a reply on shared memory takes a few µs), then yield the core (ranks often
  // share cores), then sleep in short steps so an idle wait costs little CPU.
  if (idle_polls_ > 64) {
    if (idle_polls_ < 20000) {
      sched_yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  if ((idle_polls_ & 15) != 0) return;
  if (c_.stopping()) throw Error(std::string(op_) + ": interrupted: the process is exiting");
  const int64_t waited_ms = (NowNs() - last_progress_ns_) / 1000000;
  if (waited_ms >= c_.timeout_ms()) {
    throw Error(std::string(op_) + ": timed out after " + std::to_string(waited_ms / 1000.0).substr(0, 5) +
                " s without progress, waiting for " + what() + " (the timeout is the communicator's timeoutMs option, or TESSERA_COMM_TIMEOUT_MS)");
  }
}

void Poller::WaitAll(MPI_Request* reqs, int n, const std::function<std::string()>& what) {
  for (;;) {
    bool all = true, any = false;
    for (int i = 0; i < n; i++) {
      if (reqs[i] == MPI_REQUEST_NULL) continue;
      int flag = 0;
      TESSERA_MPI(MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE), op_);
      if (flag) any = true;
      else all = false;
    }
    if (all) return;
    if (any) Progressed();
    else Idle(what);
  }
}

}  // namespace comm
}  // namespace tessera
#endif
