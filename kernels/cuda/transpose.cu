#include "transpose.cuh"

#include <algorithm>
#include <string>

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

constexpr int kTile = 32;
constexpr int kTileRows = 8;
constexpr int64_t kMaxGridYZ = 65535;

struct Index {
  int rank;
  int64_t out_shape[kCudaMaxTransposeRank];
  int64_t in_stride[kCudaMaxTransposeRank];  // the input stride of each output dimension
};

template <typename T>
__global__ void TransposeGeneral(const T* __restrict__ x, T* __restrict__ out, int64_t n, Index ix) {
  for (int64_t i = cuda_detail::GlobalThread(); i < n; i += cuda_detail::GridStride()) {
    int64_t rest = i, offset = 0;
    for (int d = ix.rank - 1; d >= 0; d--) {
      offset += (rest % ix.out_shape[d]) * ix.in_stride[d];
      rest /= ix.out_shape[d];
    }
    out[i] = x[offset];
  }
}

// [batch, rows, cols] -> [batch, cols, rows]: a 32 x 32 tile read along cols and written
// along rows; the +1 column keeps the column reads of the tile off a single bank.
template <typename T>
__global__ void TransposeTiled(const T* __restrict__ x, T* __restrict__ out, int64_t rows, int64_t cols) {
  __shared__ T tile[kTile][kTile + 1];
  const int64_t b = blockIdx.z;
  const T* in = x + b * rows * cols;
  T* o = out + b * rows * cols;
  const int64_t c0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kTile;
  for (int j = threadIdx.y; j < kTile; j += kTileRows) {
    const int64_t r = r0 + j, c = c0 + threadIdx.x;
    if (r < rows && c < cols) tile[j][threadIdx.x] = in[r * cols + c];
  }
  __syncthreads();
  for (int j = threadIdx.y; j < kTile; j += kTileRows) {
    const int64_t c = c0 + j, r = r0 + threadIdx.x;
    if (r < rows && c < cols) o[c * rows + r] = tile[threadIdx.x][j];
  }
}

template <typename T>
void Launch(const TransposeLaunch& plan, const T* x, T* out, int64_t n, cudaStream_t stream) {
  const int rank = static_cast<int>(plan.shape.size());
  if (plan.kind == TransposeKind::kTiled) {
    const int64_t rows = plan.shape[rank - 2], cols = plan.shape[rank - 1];
    const int64_t batch = n / (rows * cols);
    dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile),
              static_cast<unsigned>(batch));
    TransposeTiled<T><<<grid, dim3(kTile, kTileRows), 0, stream>>>(x, out, rows, cols);
  } else {
    Index ix{};
    ix.rank = rank;
    std::vector<int64_t> stride(rank, 1);
    for (int d = rank - 2; d >= 0; d--) stride[d] = stride[d + 1] * plan.shape[d + 1];
    for (int d = 0; d < rank; d++) {
      ix.out_shape[d] = plan.shape[plan.perm[d]];
      ix.in_stride[d] = stride[plan.perm[d]];
    }
    TransposeGeneral<T><<<cuda_detail::GridFor(n, 256), 256, 0, stream>>>(x, out, n, ix);
  }
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace

TransposeLaunch PlanTransposeCuda(const Shape& shape, const std::vector<int64_t>& perm) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (static_cast<int64_t>(perm.size()) != rank) {
    throw Error("transpose: expected " + std::to_string(rank) + " axes for perm but got " + std::to_string(perm.size()));
  }
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p]) {
      throw Error("transpose: expected a permutation of [0, " + std::to_string(rank) + ") for perm but got axis " +
                  std::to_string(p));
    }
    seen[p] = true;
  }
  // Drop size-1 axes, then merge runs of output axes that are consecutive among the kept
  // input axes (a size-1 axis between two others does not keep them apart).
  std::vector<int64_t> rank_of(rank, -1);  // an input axis's position among the kept ones
  int64_t kept_count = 0;
  for (int64_t d = 0; d < rank; d++) {
    if (shape[d] != 1) rank_of[d] = kept_count++;
  }
  std::vector<int64_t> kept;  // input axes of size > 1, in output order
  for (int64_t p : perm) {
    if (shape[p] != 1) kept.push_back(p);
  }
  std::vector<std::vector<int64_t>> groups;
  for (int64_t p : kept) {
    if (!groups.empty() && rank_of[groups.back().back()] + 1 == rank_of[p]) groups.back().push_back(p);
    else groups.push_back({p});
  }
  // Number the groups by their input order.
  std::vector<size_t> order(groups.size());
  for (size_t g = 0; g < groups.size(); g++) order[g] = g;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return groups[a][0] < groups[b][0]; });
  TransposeLaunch plan{};
  plan.shape.assign(groups.size(), 1);
  plan.perm.assign(groups.size(), 0);
  for (size_t i = 0; i < order.size(); i++) {
    int64_t size = 1;
    for (int64_t p : groups[order[i]]) size *= shape[p];
    plan.shape[i] = size;
  }
  for (size_t g = 0; g < groups.size(); g++) {
    plan.perm[g] = static_cast<int64_t>(std::find(order.begin(), order.end(), g) - order.begin());
  }
  const size_t r = plan.perm.size();
  bool identity = true;
  for (size_t d = 0; d < r; d++) identity = identity && plan.perm[d] == static_cast<int64_t>(d);
  if (identity) {
    plan.kind = TransposeKind::kCopy;
  } else {
    bool swap_last = r >= 2 && plan.perm[r - 1] == static_cast<int64_t>(r - 2) &&
                     plan.perm[r - 2] == static_cast<int64_t>(r - 1);
    for (size_t d = 0; d + 2 < r; d++) swap_last = swap_last && plan.perm[d] == static_cast<int64_t>(d);
    int64_t batch = 1;
    for (size_t d = 0; d + 2 < r; d++) batch *= plan.shape[d];
    plan.kind = swap_last && batch <= kMaxGridYZ && (plan.shape[r - 2] + kTile - 1) / kTile <= kMaxGridYZ
                    ? TransposeKind::kTiled
                    : TransposeKind::kGeneral;
  }
  if (plan.shape.size() > static_cast<size_t>(kCudaMaxTransposeRank)) {
    throw Error("transpose: expected at most " + std::to_string(kCudaMaxTransposeRank) +
                " dimensions after merging but got " + std::to_string(plan.shape.size()));
  }
  return plan;
}

void TransposeCuda(DType dtype, const void* x, const Shape& shape, const std::vector<int64_t>& perm, void* out,
                   cudaStream_t stream) {
  const TransposeLaunch plan = PlanTransposeCuda(shape, perm);
  const int64_t n = ShapeSize(shape);
  if (n == 0) return;
  if (plan.kind == TransposeKind::kCopy) {
    TESSERA_CUDA_CHECK(cudaMemcpyAsync(out, x, static_cast<size_t>(n) * DTypeSize(dtype), cudaMemcpyDeviceToDevice, stream));
    return;
  }
  if (DTypeSize(dtype) == 4) Launch(plan, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(out), n, stream);
  else Launch(plan, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), n, stream);
}

}  // namespace tessera
