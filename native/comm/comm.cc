#include "comm/comm.h"

#include <algorithm>
#include <sstream>

#include "core/errors.h"
#include "cpu/binary.h"

namespace tessera {
namespace comm {

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kAllReduce: return "allReduce";
    case Kind::kBroadcast: return "broadcast";
    case Kind::kAllGather: return "allGather";
    case Kind::kReduceScatter: return "reduceScatter";
    case Kind::kBarrier: return "barrier";
    case Kind::kSplit: return "split";
  }
  return "unknown";
}

const char* ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kMean: return "mean";
    case ReduceOp::kMax: return "max";
    case ReduceOp::kMin: return "min";
    case ReduceOp::kProd: return "prod";
  }
  return "unknown";
}

const char* AlgorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kMpi: return "mpi";
    case Algorithm::kRing: return "ring";
    case Algorithm::kRecursiveDoubling: return "recursive-doubling";
    case Algorithm::kTree: return "tree";
    case Algorithm::kMpiBlocking: return "mpi-blocking";
  }
  return "unknown";
}

ReduceOp ParseReduceOp(const std::string& name, const char* op) {
  for (ReduceOp r : {ReduceOp::kSum, ReduceOp::kMean, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd}) {
    if (name == ReduceOpName(r)) return r;
  }
  ThrowArgError(op, "op", "one of sum, mean, max, min, prod", "'" + name + "'");
}

Algorithm ParseAlgorithm(const std::string& name, const char* op) {
  for (Algorithm a : {Algorithm::kMpi, Algorithm::kRing, Algorithm::kRecursiveDoubling, Algorithm::kTree,
                      Algorithm::kMpiBlocking}) {
    if (name == AlgorithmName(a)) return a;
  }
  ThrowArgError(op, "algorithm", "one of mpi, ring, recursive-doubling, tree, mpi-blocking", "'" + name + "'");
}

void ReduceInto(ReduceOp op, DType dtype, void* dst, const void* src, int64_t n) { Reduce(op, dtype, dst, dst, src, n); }

void Reduce(ReduceOp op, DType dtype, void* dst, const void* a, const void* src, int64_t n) {
  if (n == 0) return;
  BinaryOp b;
  if (dtype == DType::kBool) {
    b = (op == ReduceOp::kSum || op == ReduceOp::kMax) ? BinaryOp::kLogicalOr : BinaryOp::kLogicalAnd;
  } else {
    switch (op) {
      case ReduceOp::kSum:
      case ReduceOp::kMean: b = BinaryOp::kAdd; break;
      case ReduceOp::kMax: b = BinaryOp::kMaximum; break;
      case ReduceOp::kMin: b = BinaryOp::kMinimum; break;
      case ReduceOp::kProd: b = BinaryOp::kMul; break;
      default: throw Error("reduce: unknown op");
    }
  }
  // In slices below the kernels' threading threshold: ranks usually fill the cores already,
  // and waking the pool's workers (which then poll for more work) takes cores from the other
  // ranks' progress threads (measured at -n 2 on the 2-core guest: 16 MB ring busbw 4.7 -> 5.2 GB/s).
  constexpr int64_t kSlice = 1 << 14;
  const size_t es = DTypeSize(dtype);
  for (int64_t i = 0; i < n; i += kSlice) {
    const Shape shape{std::min(kSlice, n - i)};
    Binary(b, dtype, static_cast<const char*>(a) + i * es, shape, static_cast<const char*>(src) + i * es, shape,
           static_cast<char*>(dst) + i * es, shape);
  }
}

void FinishMean(DType dtype, void* x, int64_t n, int divisor) {
  if (n == 0) return;
  if (dtype != DType::kFloat32) throw Error("allReduce: mean needs float32");
  const float d = static_cast<float>(divisor);
  Binary(BinaryOp::kRealDiv, dtype, x, Shape{n}, &d, Shape{1}, x, Shape{n});
}

namespace {
constexpr int64_t kMagic = 0x7e55e7a;

int64_t HashDims(const Shape& s) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t d : s) h = (h ^ static_cast<uint64_t>(d)) * 1099511628211ull;
  return static_cast<int64_t>(h >> 1);
}
}  // namespace

void Header::Encode(int64_t* w) const {
  w[0] = kMagic;
  w[1] = seq;
  w[2] = static_cast<int64_t>(kind);
  w[3] = static_cast<int64_t>(op);
  w[4] = static_cast<int64_t>(dtype);
  w[5] = static_cast<int64_t>(algorithm);
  w[6] = root;
  w[7] = key;
  w[8] = static_cast<int64_t>(shape.size());
  w[9] = ShapeSize(shape);
  w[10] = HashDims(shape);
  w[11] = 0;
  for (int i = 0; i < kMaxDims; i++) w[12 + i] = i < static_cast<int>(shape.size()) ? shape[i] : -1;
}

Header Header::Decode(const int64_t* w) {
  if (w[0] != kMagic) throw Error("collective: a rank sent a header Tessera cannot read (is every rank running the same Tessera version?)");
  Header h;
  h.seq = w[1];
  h.kind = static_cast<Kind>(w[2]);
  h.op = static_cast<ReduceOp>(w[3]);
  h.dtype = static_cast<DType>(w[4]);
  h.algorithm = static_cast<Algorithm>(w[5]);
  h.root = w[6];
  h.key = w[7];
  const int64_t ndim = w[8];
  // Beyond kMaxDims only the hash travels: the shape reads as its first dims then "...".
  for (int64_t i = 0; i < ndim && i < kMaxDims; i++) h.shape.push_back(w[12 + i]);
  if (ndim > kMaxDims) h.shape.push_back(-w[10]);
  return h;
}

std::string Header::Describe() const {
  std::ostringstream s;
  s << KindName(kind);
  if (kind == Kind::kAllReduce || kind == Kind::kReduceScatter) s << "(" << ReduceOpName(op) << ")";
  if (kind == Kind::kBroadcast) s << "(root " << root << ")";
  if (kind == Kind::kSplit) return s.str();
  if (kind != Kind::kBarrier) s << " of " << DTypeName(dtype) << " " << ShapeToString(shape) << " (" << AlgorithmName(algorithm) << ")";
  return s.str();
}

void CheckHeaders(const std::vector<Header>& headers, const char* op) {
  const Header& h0 = headers[0];
  std::ostringstream s;
  int bad = 0;
  bool out_of_step = false;
  for (size_t r = 1; r < headers.size(); r++) {
    const Header& h = headers[r];
    if (h.seq != h0.seq) out_of_step = true;
    const bool differs = h.seq != h0.seq || h.kind != h0.kind || h.dtype != h0.dtype || h.shape != h0.shape ||
                         ((h0.kind == Kind::kAllReduce || h0.kind == Kind::kReduceScatter) && h.op != h0.op) ||
                         (h0.kind != Kind::kSplit && h.root != h0.root) || h.algorithm != h0.algorithm;
    if (!differs) continue;
    if (bad++ < 4) s << "; rank " << r << " called " << h.Describe() << " (collective #" << h.seq << ")";
  }
  if (bad == 0) return;
  if (bad > 4) s << "; and " << (bad - 4) << " more ranks";
  std::string msg = std::string(op) + ": ranks disagree: rank 0 called " + h0.Describe() + " (collective #" +
                    std::to_string(h0.seq) + ")" + s.str();
  if (out_of_step) msg += " (ranks are out of step: one skipped or added a collective)";
  throw Error(msg);
}

void SplitEven(int64_t n, int parts, std::vector<int64_t>* offsets, std::vector<int64_t>* lengths) {
  offsets->resize(parts);
  lengths->resize(parts);
  const int64_t q = n / parts, rem = n % parts;
  int64_t off = 0;
  for (int i = 0; i < parts; i++) {
    (*offsets)[i] = off;
    (*lengths)[i] = q + (i < rem ? 1 : 0);
    off += (*lengths)[i];
  }
}

void SplitRows(const Shape& shape, int parts, std::vector<int64_t>* offsets, std::vector<int64_t>* lengths) {
  const int64_t rows = shape.empty() ? 1 : shape[0];
  const int64_t row = rows == 0 ? 0 : ShapeSize(shape) / rows;
  SplitEven(rows, parts, offsets, lengths);
  for (int i = 0; i < parts; i++) {
    (*offsets)[i] *= row;
    (*lengths)[i] *= row;
  }
}

}  // namespace comm
}  // namespace tessera
