#include "reduce.cuh"

#include <algorithm>
#include <climits>
#include <string>

#include "common.cuh"
#include "cuda/check.h"
#include "transpose.cuh"

namespace tessera {

namespace {

constexpr int kBlock = 256;
constexpr int kWarpRowMax = 1024;  // rows up to this length take one warp each
constexpr long long kNone = LLONG_MAX;

// A partial result: `v` the running value; `i` the index (ArgMax/ArgMin, kNone before any
// non-NaN element) or, for Max/Min, whether a NaN was seen.
struct Acc {
  double v;
  long long i;
};

template <ReduceOp kOp>
__device__ __forceinline__ Acc Identity() {
  switch (kOp) {
    case ReduceOp::kProd: return {1.0, 0};
    case ReduceOp::kMax: return {-INFINITY, 0};
    case ReduceOp::kMin: return {INFINITY, 0};
    case ReduceOp::kArgMax: return {-INFINITY, kNone};
    case ReduceOp::kArgMin: return {INFINITY, kNone};
    default: return {0.0, 0};
  }
}

template <ReduceOp kOp, typename T>
__device__ __forceinline__ Acc Element(T x, long long q, float size) {
  const double d = static_cast<double>(x);
  switch (kOp) {
    // tfjs divides each element by the size in float32 before adding (Mean.js).
    case ReduceOp::kMean: return {static_cast<double>(static_cast<float>(static_cast<float>(x) / size)), 0};
    case ReduceOp::kMax: return isnan(d) ? Acc{-INFINITY, 1} : Acc{d, 0};
    case ReduceOp::kMin: return isnan(d) ? Acc{INFINITY, 1} : Acc{d, 0};
    case ReduceOp::kArgMax: return isnan(d) ? Acc{-INFINITY, kNone} : Acc{d, q};
    case ReduceOp::kArgMin: return isnan(d) ? Acc{INFINITY, kNone} : Acc{d, q};
    default: return {d, 0};
  }
}

template <ReduceOp kOp>
__device__ __forceinline__ Acc Combine(Acc a, Acc b) {
  switch (kOp) {
    case ReduceOp::kProd: return {a.v * b.v, 0};
    case ReduceOp::kMax: return {a.v > b.v ? a.v : b.v, a.i | b.i};
    case ReduceOp::kMin: return {a.v < b.v ? a.v : b.v, a.i | b.i};
    case ReduceOp::kArgMax:
    case ReduceOp::kArgMin: {
      if (b.i == kNone) return a;
      if (a.i == kNone) return b;
      const bool b_wins = kOp == ReduceOp::kArgMax ? b.v > a.v : b.v < a.v;
      return (b_wins || (b.v == a.v && b.i < a.i)) ? b : a;
    }
    default: return {a.v + b.v, 0};
  }
}

template <ReduceOp kOp>
__device__ __forceinline__ Acc WarpReduce(Acc a) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    Acc other;
    other.v = __shfl_down_sync(0xffffffffu, a.v, offset);
    other.i = __shfl_down_sync(0xffffffffu, a.i, offset);
    a = Combine<kOp>(a, other);
  }
  return a;
}

__device__ __forceinline__ int32_t JsToInt32(double v) {
  if (!isfinite(v)) return 0;
  const double t = trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<int32_t>(t);
  double m = fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// The row's result as tfjs stores it.
template <ReduceOp kOp, typename T, typename O>
__device__ __forceinline__ void Finish(Acc a, const T* row, int64_t cols, O* out) {
  double r = a.v;
  switch (kOp) {
    case ReduceOp::kMax:
    case ReduceOp::kMin:
      if (cols == 0 || a.i != 0) r = nan("");
      break;
    case ReduceOp::kArgMax:
    case ReduceOp::kArgMin:
      // A NaN first element is never replaced (v > NaN is false); neither is a lone first element.
      r = (cols == 0 || a.i == kNone || isnan(static_cast<double>(row[0]))) ? 0.0 : static_cast<double>(a.i);
      break;
    default:
      break;
  }
  if (std::is_same<O, float>::value) *out = static_cast<O>(r);
  else *out = static_cast<O>(JsToInt32(r));
}

template <ReduceOp kOp, typename T, typename O>
__global__ void WarpRowReduce(const T* __restrict__ x, int64_t rows, int64_t cols, O* __restrict__ out) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  const float size = static_cast<float>(cols);
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps) {
    const T* row = x + r * cols;
    Acc a = Identity<kOp>();
    for (int64_t q = lane; q < cols; q += 32) a = Combine<kOp>(a, Element<kOp>(row[q], q, size));
    a = WarpReduce<kOp>(a);
    if (lane == 0) Finish<kOp>(a, row, cols, out + r);
  }
}

template <ReduceOp kOp, typename T, typename O>
__global__ void BlockRowReduce(const T* __restrict__ x, int64_t rows, int64_t cols, O* __restrict__ out) {
  __shared__ Acc partial[kBlock / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const float size = static_cast<float>(cols);
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * cols;
    Acc a = Identity<kOp>();
    for (int64_t q = threadIdx.x; q < cols; q += blockDim.x) a = Combine<kOp>(a, Element<kOp>(row[q], q, size));
    a = WarpReduce<kOp>(a);
    if (lane == 0) partial[warp] = a;
    __syncthreads();
    if (warp == 0) {
      a = lane < kBlock / 32 ? partial[lane] : Identity<kOp>();
      a = WarpReduce<kOp>(a);
      if (lane == 0) Finish<kOp>(a, row, cols, out + r);
    }
    // `partial` is rewritten by the next row.
    __syncthreads();
  }
}

template <ReduceOp kOp, typename T, typename O>
void LaunchRows(const ReduceLaunch& plan, const T* x, O* out, cudaStream_t stream) {
  if (plan.warp_per_row) {
    WarpRowReduce<kOp, T, O><<<cuda_detail::GridFor(plan.rows, kBlock / 32), kBlock, 0, stream>>>(x, plan.rows,
                                                                                                  plan.cols, out);
  } else {
    BlockRowReduce<kOp, T, O><<<cuda_detail::GridFor(plan.rows, 1), kBlock, 0, stream>>>(x, plan.rows, plan.cols, out);
  }
  TESSERA_CUDA_CHECK_LAUNCH();
}

template <ReduceOp kOp, typename T>
void LaunchTyped(DType out_dtype, const ReduceLaunch& plan, const T* x, void* out, cudaStream_t stream) {
  if (out_dtype == DType::kFloat32) LaunchRows<kOp, T, float>(plan, x, static_cast<float*>(out), stream);
  else LaunchRows<kOp, T, int32_t>(plan, x, static_cast<int32_t*>(out), stream);
}

template <typename T>
void Dispatch(ReduceOp op, DType out_dtype, const ReduceLaunch& plan, const T* x, void* out, cudaStream_t stream) {
  switch (op) {
    case ReduceOp::kSum: LaunchTyped<ReduceOp::kSum>(out_dtype, plan, x, out, stream); break;
    case ReduceOp::kMean: LaunchTyped<ReduceOp::kMean>(out_dtype, plan, x, out, stream); break;
    case ReduceOp::kProd: LaunchTyped<ReduceOp::kProd>(out_dtype, plan, x, out, stream); break;
    case ReduceOp::kMax: LaunchTyped<ReduceOp::kMax>(out_dtype, plan, x, out, stream); break;
    case ReduceOp::kMin: LaunchTyped<ReduceOp::kMin>(out_dtype, plan, x, out, stream); break;
    case ReduceOp::kArgMax: LaunchTyped<ReduceOp::kArgMax>(out_dtype, plan, x, out, stream); break;
    case ReduceOp::kArgMin: LaunchTyped<ReduceOp::kArgMin>(out_dtype, plan, x, out, stream); break;
    default: throw Error("reduce: no CUDA kernel for this op");
  }
}

}  // namespace

bool CudaReduceSupports(ReduceOp op, DType dtype) {
  if (op == ReduceOp::kAll || op == ReduceOp::kAny) return false;
  return dtype == DType::kFloat32 || dtype == DType::kInt32;
}

ReduceLaunch PlanReduceCuda(DType dtype, const Shape& shape, const std::vector<int64_t>& axes) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    if (a < 0 || a >= rank || reduced[a]) {
      throw Error("reduce: expected distinct axes in [0, " + std::to_string(rank) + ") for axes but got " +
                  std::to_string(a));
    }
    reduced[a] = true;
  }
  ReduceLaunch plan{};
  plan.rows = 1;
  plan.cols = 1;
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < rank; d++) {
    if (!reduced[d]) {
      perm.push_back(d);
      plan.rows *= shape[d];
    }
  }
  for (int64_t d = 0; d < rank; d++) {
    if (reduced[d]) {
      perm.push_back(d);
      plan.cols *= shape[d];
    }
  }
  // No transpose when the reduced axes are already innermost (size-1 axes move freely).
  std::vector<int64_t> moved;
  for (int64_t d = 0; d < rank; d++) {
    if (shape[d] != 1) moved.push_back(d);
  }
  std::vector<int64_t> permuted;
  for (int64_t d : perm) {
    if (shape[d] != 1) permuted.push_back(d);
  }
  if (permuted != moved && plan.rows * plan.cols > 0) {
    plan.perm = perm;
    plan.workspace_bytes = static_cast<size_t>(plan.rows * plan.cols) * DTypeSize(dtype);
  }
  plan.warp_per_row = plan.cols <= kWarpRowMax;
  return plan;
}

void ReduceCuda(ReduceOp op, DType dtype, const void* x, const Shape& shape, const std::vector<int64_t>& axes,
                void* out, void* workspace, cudaStream_t stream) {
  if (!CudaReduceSupports(op, dtype)) throw Error(std::string("reduce: no CUDA kernel for this op on ") + DTypeName(dtype));
  const ReduceLaunch plan = PlanReduceCuda(dtype, shape, axes);
  if (plan.rows == 0) return;
  const void* rows = x;
  if (!plan.perm.empty()) {
    if (workspace == nullptr) throw Error("reduce: expected a workspace for the transposed input");
    TransposeCuda(dtype, x, shape, plan.perm, workspace, stream);
    rows = workspace;
  }
  const DType out_dtype = ReduceOutputDType(op, dtype);
  if (dtype == DType::kFloat32) Dispatch(op, out_dtype, plan, static_cast<const float*>(rows), out, stream);
  else Dispatch(op, out_dtype, plan, static_cast<const int32_t*>(rows), out, stream);
}

}  // namespace tessera
