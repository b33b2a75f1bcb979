// Collectives shared by every engine: the ops, the reductions (Tessera's SIMD elementwise
// kernels), the algorithm names and the header that ranks compare before any data moves.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace tessera {
namespace comm {

enum class Kind : int64_t { kAllReduce = 1, kBroadcast, kAllGather, kReduceScatter, kBarrier, kSplit };
enum class ReduceOp : int64_t { kSum = 0, kMean, kMax, kMin, kProd };
// kMpi is the engine's built-in non-blocking collective (MPI_Iallreduce, ...); the rest are
// Tessera's algorithms on point-to-point messages.
enum class Algorithm : int64_t { kMpi = 0, kRing, kRecursiveDoubling, kTree, kMpiBlocking };

const char* KindName(Kind k);
const char* ReduceOpName(ReduceOp op);
const char* AlgorithmName(Algorithm a);
ReduceOp ParseReduceOp(const std::string& name, const char* op);
Algorithm ParseAlgorithm(const std::string& name, const char* op);

// dst[i] = dst[i] (op) src[i] for i in [0, n), through the SIMD binary kernels. Mean
// reduces as a sum (FinishMean divides at the end); bool reduces as logical or (sum, max)
// or logical and (prod, min).
void ReduceInto(ReduceOp op, DType dtype, void* dst, const void* src, int64_t n);
// dst[i] = a[i] (op) b[i]: the same, reading the left operand from elsewhere (dst may be a).
void Reduce(ReduceOp op, DType dtype, void* dst, const void* a, const void* b, int64_t n);
// x[i] /= divisor (float32 only: mean is refused for other dtypes before data moves).
void FinishMean(DType dtype, void* x, int64_t n, int divisor);

// What a rank is about to do, exchanged (all-gathered) before every collective and compared:
// ranks that disagree fail together, on every rank, instead of exchanging garbage or hanging.
struct Header {
  static constexpr int kMaxDims = 8;
  static constexpr int kWords = 12 + kMaxDims;
  int64_t seq = 0;  // the communicator's collective counter: ranks out of step differ here
  Kind kind = Kind::kBarrier;
  ReduceOp op = ReduceOp::kSum;
  DType dtype = DType::kFloat32;
  Algorithm algorithm = Algorithm::kMpi;
  int64_t root = 0;  // broadcast root, split color
  int64_t key = 0;   // split key (differs across ranks; not compared)
  Shape shape;

  void Encode(int64_t* words) const;
  static Header Decode(const int64_t* words);
  // "allReduce(sum) of float32 [4, 3] (ring)"
  std::string Describe() const;
};

// Compares every rank's header with rank 0's; throws one message (the same on every rank)
// naming the ranks that differ and how.
void CheckHeaders(const std::vector<Header>& headers, const char* op);

// Splits n elements into `parts` contiguous blocks, the first n % parts one element longer
// (numpy's array_split): ring segments and reduceScatter's result blocks.
void SplitEven(int64_t n, int parts, std::vector<int64_t>* offsets, std::vector<int64_t>* lengths);

// reduceScatter's blocks: the rows of axis 0 (a scalar is one row) split by SplitEven, in elements.
void SplitRows(const Shape& shape, int parts, std::vector<int64_t>* offsets, std::vector<int64_t>* lengths);

}  // namespace comm
}  // namespace tessera
