// The NCCL engine for CUDA buffers. UNTESTED: written on a machine without a GPU or NCCL;
// compiled only when CMake finds NCCL and CUDA (and MPI, which carries the unique id), so no
// build here has ever compiled it. Not yet bound to JS: Tessera has no CUDA tensors to pass it.
//
// Like the MPI engine, no wait blocks forever: a call is enqueued on `stream` and Wait polls
// cudaStreamQuery and ncclCommGetAsyncError against a deadline, aborting the communicator
// (ncclCommAbort) when the deadline passes, so a dead peer gives an error, not a hang.
#pragma once
#if defined(TESSERA_WITH_NCCL) && defined(TESSERA_WITH_MPI)
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "comm/comm.h"

namespace tessera {
namespace comm {

class NcclCommunicator {
 public:
  // Collective over `mpi`: rank 0 makes the unique id and broadcasts it; `device` is this
  // rank's CUDA device.
  static std::unique_ptr<NcclCommunicator> Create(MPI_Comm mpi, int device);
  ~NcclCommunicator();

  // Device pointers; counts in elements (reduceScatter: of this rank's block, equal blocks).
  void AllReduce(const void* in, void* out, size_t count, DType dtype, ReduceOp op, cudaStream_t stream);
  void Broadcast(const void* in, void* out, size_t count, DType dtype, int root, cudaStream_t stream);
  void AllGather(const void* in, void* out, size_t count, DType dtype, cudaStream_t stream);
  void ReduceScatter(const void* in, void* out, size_t count, DType dtype, ReduceOp op, cudaStream_t stream);
  // Waits for the work queued on `stream`; throws (and aborts the communicator) on an NCCL
  // error or after timeout_ms without completion.
  void Wait(cudaStream_t stream, int64_t timeout_ms, const char* op);

 private:
  NcclCommunicator(ncclComm_t comm, int rank, int size) : comm_(comm), rank_(rank), size_(size) {}
  ncclComm_t comm_;
  int rank_, size_;
  bool aborted_ = false;
};

}  // namespace comm
}  // namespace tessera
#endif
