// UNTESTED (see nccl.h): never compiled or run on a machine with NCCL.
#if defined(TESSERA_WITH_NCCL) && defined(TESSERA_WITH_MPI)
#include "comm/nccl.h"

#include <chrono>
#include <string>
#include <thread>

#include "comm/mpi_comm.h"
#include "core/errors.h"

namespace tessera {
namespace comm {
namespace {

void CheckNccl(ncclResult_t rc, const char* op, const char* call, const char* file, int line) {
  if (rc == ncclSuccess || rc == ncclInProgress) return;
  throw Error(std::string(op) + ": " + call + " failed: " + ncclGetErrorString(rc) + " (" + file + ":" + std::to_string(line) + ")");
}
#define TESSERA_NCCL(call, op) CheckNccl((call), (op), #call, __FILE__, __LINE__)

void CheckCuda(cudaError_t rc, const char* op, const char* call, const char* file, int line) {
  if (rc == cudaSuccess) return;
  throw Error(std::string(op) + ": " + call + " failed: " + cudaGetErrorString(rc) + " (" + file + ":" + std::to_string(line) + ")");
}
#define TESSERA_CUDA(call, op) CheckCuda((call), (op), #call, __FILE__, __LINE__)

ncclDataType_t NcclType(DType d) {
  switch (d) {
    case DType::kFloat32: return ncclFloat32;
    case DType::kInt32: return ncclInt32;
    case DType::kBool: return ncclUint8;
  }
  return ncclFloat32;
}

ncclRedOp_t NcclOp(ReduceOp op, DType dtype) {
  if (dtype == DType::kBool) {
    // 0/1 values: or is max, and is min.
    return (op == ReduceOp::kSum || op == ReduceOp::kMax) ? ncclMax : ncclMin;
  }
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMean: return ncclAvg;  // NCCL >= 2.10
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kMin: return ncclMin;
    case ReduceOp::kProd: return ncclProd;
  }
  return ncclSum;
}

}  // namespace

std::unique_ptr<NcclCommunicator> NcclCommunicator::Create(MPI_Comm mpi, int device) {
  int rank = 0, size = 1;
  TESSERA_MPI(MPI_Comm_rank(mpi, &rank), "nccl");
  TESSERA_MPI(MPI_Comm_size(mpi, &size), "nccl");
  ncclUniqueId id;
  if (rank == 0) TESSERA_NCCL(ncclGetUniqueId(&id), "nccl");
  TESSERA_MPI(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, mpi), "nccl");
  TESSERA_CUDA(cudaSetDevice(device), "nccl");
  ncclComm_t comm;
  TESSERA_NCCL(ncclCommInitRank(&comm, size, id, rank), "nccl");
  return std::unique_ptr<NcclCommunicator>(new NcclCommunicator(comm, rank, size));
}

NcclCommunicator::~NcclCommunicator() {
  if (aborted_) return;
  ncclCommDestroy(comm_);
}

void NcclCommunicator::AllReduce(const void* in, void* out, size_t count, DType dtype, ReduceOp op, cudaStream_t stream) {
  TESSERA_NCCL(ncclAllReduce(in, out, count, NcclType(dtype), NcclOp(op, dtype), comm_, stream), "allReduce");
}

void NcclCommunicator::Broadcast(const void* in, void* out, size_t count, DType dtype, int root, cudaStream_t stream) {
  TESSERA_NCCL(ncclBroadcast(in, out, count, NcclType(dtype), root, comm_, stream), "broadcast");
}

void NcclCommunicator::AllGather(const void* in, void* out, size_t count, DType dtype, cudaStream_t stream) {
  TESSERA_NCCL(ncclAllGather(in, out, count, NcclType(dtype), comm_, stream), "allGather");
}

void NcclCommunicator::ReduceScatter(const void* in, void* out, size_t count, DType dtype, ReduceOp op, cudaStream_t stream) {
  TESSERA_NCCL(ncclReduceScatter(in, out, count, NcclType(dtype), NcclOp(op, dtype), comm_, stream), "reduceScatter");
}

void NcclCommunicator::Wait(cudaStream_t stream, int64_t timeout_ms, const char* op) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const cudaError_t q = cudaStreamQuery(stream);
    if (q == cudaSuccess) return;
    if (q != cudaErrorNotReady) TESSERA_CUDA(q, op);
    ncclResult_t async = ncclSuccess;
    TESSERA_NCCL(ncclCommGetAsyncError(comm_, &async), op);
    if (async != ncclSuccess && async != ncclInProgress) {
      ncclCommAbort(comm_);
      aborted_ = true;
      throw Error(std::string(op) + ": NCCL reported " + ncclGetErrorString(async) + "; the communicator was aborted");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ncclCommAbort(comm_);
      aborted_ = true;
      throw Error(std::string(op) + ": timed out after " + std::to_string(timeout_ms) +
                  " ms waiting for the other ranks (one may have died or be stuck); the NCCL communicator was aborted");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace comm
}  // namespace tessera
#endif
