// The MPI engine: one Communicator per MPI communicator, each with its own progress thread
// that runs the communicator's operations one after another, in the order they were
// submitted (every rank submits collectives in the same order); point-to-point messages
// progress beside them. MPI is initialized with MPI_THREAD_MULTIPLE (several communicators'
// threads call MPI at once) on a thread of its own, which finalizes it at exit.
//
// No wait blocks: every request is polled with MPI_Test against a deadline that restarts
// whenever something completes, and MPI_ERRORS_RETURN turns MPI failures into return codes.
// A rank that died or never arrives makes the others throw a timeout error naming the rank
// they waited for; the communicator is then broken and refuses further work.
#pragma once
#ifdef TESSERA_WITH_MPI
#include <mpi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "comm/comm.h"

namespace tessera {
namespace comm {

struct MpiInfo {
  bool initialized;
  bool finalized;
  std::string library;  // MPI_Get_library_version, first line
  int version, subversion;
  int thread_level;  // MPI_THREAD_* provided
};

// Starts MPI's own thread, which initializes MPI (MPI_THREAD_MULTIPLE) and finalizes it at
// exit; returns at once.
void StartMpi();
// Waits for MPI_Init to finish; throws its failure, or a timeout naming the likely cause.
void WaitForMpi(const char* op, int64_t timeout_ms, const std::atomic<bool>& stopping);
MpiInfo GetMpiInfo();
// Stops every communicator's progress thread and finalizes MPI (skipped when a communicator
// broke: MPI_Finalize could wait forever on a dead peer). Idempotent; runs at exit.
void ShutdownMpi();

// What an operation works on. Buffers belong to the caller (kept alive by the binding).
struct OpArgs {
  Header header;
  int64_t timeout_ms = 0;
  const void* in = nullptr;  // count elements (send buffer)
  void* out = nullptr;
  int64_t count = 0;   // elements of `in`
  int peer = 0;        // send/recv
  int tag = 0;
};

struct OpResult {
  // recv: a buffer from AllocateBuffer that the binding hands to JS.
  void* buffer = nullptr;
  uint64_t buffer_id = 0;
  DType dtype = DType::kFloat32;
  Shape shape;
  // split: the new communicator (null for a rank that passed no color).
  std::shared_ptr<class Communicator> comm;
};

class Communicator : public std::enable_shared_from_this<Communicator> {
 public:
  // Wraps `comm` (which this object then owns, except MPI_COMM_WORLD). World waits for
  // MPI_Init on its progress thread before its first op; until then it reports the rank and
  // size the launcher's environment gave, and checks them against MPI's then.
  Communicator(MPI_Comm comm, bool world, int rank = -1, int size = -1);
  ~Communicator();
  static std::shared_ptr<Communicator> World(int rank, int size);

  int rank() const { return rank_.load(); }
  int size() const { return size_.load(); }
  bool broken() const { return broken_.load(); }

  using Done = std::function<void(const std::string& error, OpResult&& result)>;
  // Queues `body` on the progress thread; `done` runs there when it finished (the binding
  // forwards it to the JS thread). After a failure other than ranks disagreeing, the
  // communicator is broken: requests may be left outstanding, so the binding keeps the op's
  // buffers alive for good.
  void Submit(OpArgs args, std::function<void(Communicator&, OpArgs&, OpResult&)> body, Done done);

  // Point-to-point messages do not wait their turn behind each other or behind collectives:
  // the progress thread keeps every posted send and receive in flight and completes them as
  // they finish (a send blocked until its receiver is ready must not hold up that rank's own
  // receive). `done` runs on the progress thread.
  void SubmitSend(OpArgs args, Done done);
  void SubmitRecv(OpArgs args, Done done);

  // Ops (run on the progress thread).
  void AllReduce(OpArgs& a);
  void Broadcast(OpArgs& a);
  void AllGather(OpArgs& a);
  void ReduceScatter(OpArgs& a);
  void Barrier(OpArgs& a);
  std::shared_ptr<Communicator> Split(OpArgs& a);

  // Lets the progress thread end after the queued work, without waiting; further Submit calls fail.
  void RequestStop();
  // Stops the progress thread now: a wait in progress gives up (at exit, or when the
  // communicator is destroyed), and joins it.
  void Stop();
  int64_t next_seq() { return seq_++; }

  // Used by the algorithms: waits that poll with the deadline (see Poller).
  MPI_Comm algo_comm() const { return algo_comm_; }
  MPI_Comm comm() const { return comm_; }
  int64_t timeout_ms() const { return timeout_ms_; }
  bool stopping() const { return stopping_.load(); }
  // Scratch memory kept between ops (slot 0: a reduceScatter's work copy; slot 1: the
  // algorithms' receive buffers). Only the progress thread touches it.
  char* Scratch(size_t bytes, int slot);

 private:
  struct P2p;
  void Loop();
  // Rank, size and the algorithm communicator (an MPI_Comm_idup, waited for in Connect).
  void StartConnect();
  // Progress thread, before the first op: waits for MPI_Init (world) and the dup.
  void Connect(const char* op, int64_t timeout_ms);
  void StartP2p(P2p& p);
  // Tests every message in flight; returns whether any advanced. Finished ones are removed.
  bool ProgressP2p();
  void Fail(const std::string& error);
  void ExchangeHeaders(const Header& mine, const char* op);

  MPI_Comm comm_;       // user point-to-point and the engine's collectives
  MPI_Comm algo_comm_;  // Tessera's algorithms, apart from user messages
  const bool world_;
  std::atomic<int> rank_{-1}, size_{-1};
  MPI_Request dup_ = MPI_REQUEST_NULL;
  bool connected_ = false;  // progress thread only
  int64_t seq_ = 0;     // collective counter; touched only on the JS thread
  int64_t timeout_ms_ = 0;  // the running op's timeout
  std::atomic<bool> broken_{false};
  std::atomic<bool> stopping_{false};
  std::string broken_reason_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::deque<std::unique_ptr<P2p>> p2p_queue_;  // submitted, not yet posted
  std::vector<std::unique_ptr<P2p>> p2p_;       // posted (progress thread only)
  bool stop_requested_ = false;
  std::thread thread_;
  std::vector<char> scratch_[2];
};

// Polls requests until they complete, within a deadline that restarts on progress.
// Throws a timeout error built from `what` (who is being waited for) when it passes.
class Poller {
 public:
  Poller(Communicator& c, const char* op);
  // Call when something completed; resets the deadline.
  void Progressed();
  // Call when nothing completed; backs off (spin, yield, then short sleeps) and throws on
  // timeout or shutdown. `what` describes the wait for the error message.
  void Idle(const std::function<std::string()>& what);
  // Waits for every request (nulls allowed).
  void WaitAll(MPI_Request* reqs, int n, const std::function<std::string()>& what);

 private:
  Communicator& c_;
  const char* op_;
  int64_t last_progress_ns_;
  int idle_polls_ = 0;
};

// Throws "<op>: <call> failed: <MPI error string> (file:line)" unless rc is MPI_SUCCESS.
void CheckMpi(int rc, const char* op, const char* call, const char* file, int line);
#define TESSERA_MPI(call, op) ::tessera::comm::CheckMpi((call), (op), #call, __FILE__, __LINE__)

MPI_Datatype MpiType(DType d);

// Tessera's algorithms (algorithms.cc), on c.algo_comm(). The allReduces read `in` and write
// `out` (no copy of one into the other first: every element of out is written once reduced).
void RingAllReduce(Communicator& c, ReduceOp op, DType dtype, const void* in, void* out, int64_t count, int tag);
void RecursiveDoublingAllReduce(Communicator& c, ReduceOp op, DType dtype, const void* in, void* out, int64_t count, int tag);
// buf holds size * block elements; this rank's block is already in place.
void RingAllGather(Communicator& c, DType dtype, void* buf, int64_t block, int tag);
// Reduces `in`'s blocks (offsets and lengths in elements) through `work` (as large as in);
// this rank's reduced block is copied to out.
void RingReduceScatter(Communicator& c, ReduceOp op, DType dtype, const void* in, void* work, const std::vector<int64_t>& off,
                       const std::vector<int64_t>& len, void* out, int tag);
void TreeBroadcast(Communicator& c, DType dtype, void* buf, int64_t count, int root, int tag);

}  // namespace comm
}  // namespace tessera
#endif
