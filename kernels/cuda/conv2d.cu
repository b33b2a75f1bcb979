#include "conv2d.cuh"

#include <algorithm>
#include <string>

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

using cuda_detail::Activate;

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256;
constexpr int kPad = 4;
constexpr int kLoadsA = kBM * kBK / kThreads;
constexpr int kLoadsB = kBK * kBN / kThreads;
constexpr int64_t kMaxGridY = 65535;
constexpr int64_t kMaxSplits = 64;

// The im2col element (m, k) of the forward pass: m = (n, oh, ow), k = (fh, fw, ic).
struct ForwardA {
  const float* x;
  CudaConv2DGeometry g;
  static constexpr bool kKFastest = true;  // consecutive k are consecutive channels of x
  __device__ float operator()(int64_t m, int64_t k) const {
    const int64_t ow = m % g.out_width;
    const int64_t oh = (m / g.out_width) % g.out_height;
    const int64_t n = m / (g.out_width * g.out_height);
    const int64_t ic = k % g.in_channels;
    const int64_t fw = (k / g.in_channels) % g.filter_width;
    const int64_t fh = k / (g.in_channels * g.filter_width);
    const int64_t ih = oh * g.stride_height - g.pad_top + fh * g.dilation_height;
    const int64_t iw = ow * g.stride_width - g.pad_left + fw * g.dilation_width;
    if (ih < 0 || ih >= g.in_height || iw < 0 || iw >= g.in_width) return 0.0f;
    return __ldg(x + ((n * g.in_height + ih) * g.in_width + iw) * g.in_channels + ic);
  }
};

// A row-major K x N matrix: the HWIO filter of the forward pass, dy of the filter pass.
struct RowMajorB {
  const float* b;
  int64_t n;
  __device__ float operator()(int64_t k, int64_t col) const { return __ldg(b + k * n + col); }
};

// The input-gradient pass: m = (n, ih, iw), k = (fh, fw, oc); the dy pixel whose window puts
// tap (fh, fw) on (ih, iw), or zero where there is none.
struct InputGradA {
  const float* dy;
  CudaConv2DGeometry g;
  static constexpr bool kKFastest = true;
  __device__ float operator()(int64_t m, int64_t k) const {
    const int64_t iw = m % g.in_width;
    const int64_t ih = (m / g.in_width) % g.in_height;
    const int64_t n = m / (g.in_width * g.in_height);
    const int64_t oc = k % g.out_channels;
    const int64_t fw = (k / g.out_channels) % g.filter_width;
    const int64_t fh = k / (g.out_channels * g.filter_width);
    const int64_t oh_num = ih + g.pad_top - fh * g.dilation_height;
    const int64_t ow_num = iw + g.pad_left - fw * g.dilation_width;
    if (oh_num < 0 || ow_num < 0 || oh_num % g.stride_height != 0 || ow_num % g.stride_width != 0) return 0.0f;
    const int64_t oh = oh_num / g.stride_height, ow = ow_num / g.stride_width;
    if (oh >= g.out_height || ow >= g.out_width) return 0.0f;
    return __ldg(dy + ((n * g.out_height + oh) * g.out_width + ow) * g.out_channels + oc);
  }
};

// The filter read as the input-gradient pass's B: k = (fh, fw, oc), column ic.
struct InputGradB {
  const float* w;
  CudaConv2DGeometry g;
  __device__ float operator()(int64_t k, int64_t ic) const {
    const int64_t oc = k % g.out_channels;
    const int64_t tap = k / g.out_channels;
    return __ldg(w + (tap * g.in_channels + ic) * g.out_channels + oc);
  }
};

// The filter-gradient pass: m = (fh, fw, ic), k = (n, oh, ow).
struct FilterGradA {
  const float* x;
  CudaConv2DGeometry g;
  static constexpr bool kKFastest = false;  // consecutive m are consecutive channels of x
  __device__ float operator()(int64_t m, int64_t k) const {
    const int64_t ic = m % g.in_channels;
    const int64_t fw = (m / g.in_channels) % g.filter_width;
    const int64_t fh = m / (g.in_channels * g.filter_width);
    const int64_t ow = k % g.out_width;
    const int64_t oh = (k / g.out_width) % g.out_height;
    const int64_t n = k / (g.out_width * g.out_height);
    const int64_t ih = oh * g.stride_height - g.pad_top + fh * g.dilation_height;
    const int64_t iw = ow * g.stride_width - g.pad_left + fw * g.dilation_width;
    if (ih < 0 || ih >= g.in_height || iw < 0 || iw >= g.in_width) return 0.0f;
    return __ldg(x + ((n * g.in_height + ih) * g.in_width + iw) * g.in_channels + ic);
  }
};

// Forward: bias, activation, store.
struct ForwardEpilogue {
  float* y;
  const float* bias;
  CudaActivation activation;
  float leaky_alpha;
  int64_t n;
  __device__ void operator()(int64_t row, int64_t col, float v, int) const {
    if (bias != nullptr) v += __ldg(bias + col);
    y[row * n + col] = Activate(activation, v, leaky_alpha);
  }
};

// Plain store, into the output or (split K) into split z's slab of the workspace.
struct StoreEpilogue {
  float* out;
  int64_t n;
  int64_t slab;  // M * N when split, 0 otherwise
  __device__ void operator()(int64_t row, int64_t col, float v, int z) const { out[z * slab + row * n + col] = v; }
};

// A 64 x 64 tile of the implicit GEMM per block of 256 threads (16 x 16, 4 x 4 outputs each),
// K in slices of 16 staged through double-buffered shared memory; block z covers K range
// [z * k_per_split, (z + 1) * k_per_split).
template <class LA, class LB, class Epi>
__global__ void __launch_bounds__(kThreads) ImplicitGemm(int64_t M, int64_t N, int64_t K, int64_t k_per_split, LA la,
                                                          LB lb, Epi epi) {
  __shared__ __align__(16) float As[2][kBK][kBM + kPad];
  __shared__ __align__(16) float Bs[2][kBK][kBN + kPad];
  const int t = threadIdx.x;
  const int tx = t % 16, ty = t / 16;
  const int64_t m0 = static_cast<int64_t>(blockIdx.x) * kBM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.y) * kBN;
  const int64_t k_begin = static_cast<int64_t>(blockIdx.z) * k_per_split;
  const int64_t k_end = min(K, k_begin + k_per_split);

  float ra[kLoadsA], rb[kLoadsB];
  auto load_slice = [&](int64_t k0) {
#pragma unroll
    for (int l = 0; l < kLoadsA; l++) {
      const int e = t + l * kThreads;
      const int r = LA::kKFastest ? e / kBK : e % kBM;
      const int c = LA::kKFastest ? e % kBK : e / kBM;
      const int64_t m = m0 + r, k = k0 + c;
      ra[l] = (m < M && k < k_end) ? la(m, k) : 0.0f;
    }
#pragma unroll
    for (int l = 0; l < kLoadsB; l++) {
      const int e = t + l * kThreads;
      const int64_t k = k0 + e / kBN, n = n0 + e % kBN;
      rb[l] = (k < k_end && n < N) ? lb(k, n) : 0.0f;
    }
  };
  auto store_slice = [&](int buf) {
#pragma unroll
    for (int l = 0; l < kLoadsA; l++) {
      const int e = t + l * kThreads;
      const int r = LA::kKFastest ? e / kBK : e % kBM;
      const int c = LA::kKFastest ? e % kBK : e / kBM;
      As[buf][c][r] = ra[l];
    }
#pragma unroll
    for (int l = 0; l < kLoadsB; l++) {
      const int e = t + l * kThreads;
      Bs[buf][e / kBN][e % kBN] = rb[l];
    }
  };

  float acc[4][4] = {};
  const int64_t slices = k_end > k_begin ? (k_end - k_begin + kBK - 1) / kBK : 0;
  if (slices > 0) {
    load_slice(k_begin);
    store_slice(0);
  }
  __syncthreads();
  for (int64_t s = 0; s < slices; s++) {
    const int cur = static_cast<int>(s & 1);
    if (s + 1 < slices) load_slice(k_begin + (s + 1) * kBK);
#pragma unroll
    for (int kk = 0; kk < kBK; kk++) {
      const float4 a = *reinterpret_cast<const float4*>(&As[cur][kk][ty * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&Bs[cur][kk][tx * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w};
      const float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
    }
    if (s + 1 < slices) store_slice(cur ^ 1);
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int64_t row = m0 + ty * 4 + i;
    if (row >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int64_t col = n0 + tx * 4 + j;
      if (col < N) epi(row, col, acc[i][j], blockIdx.z);
    }
  }
}

// out[i] = sum over splits of workspace[s][i], in split order (deterministic).
__global__ void SumSplits(const float* workspace, int64_t splits, int64_t slab, float* out) {
  for (int64_t i = cuda_detail::GlobalThread(); i < slab; i += cuda_detail::GridStride()) {
    float sum = 0.0f;
    for (int64_t s = 0; s < splits; s++) sum += workspace[s * slab + i];
    out[i] = sum;
  }
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

void CheckGeometry(const CudaConv2DGeometry& g, const char* op) {
  const int64_t sizes[] = {g.batch, g.in_height, g.in_width, g.in_channels, g.out_height, g.out_width,
                           g.out_channels, g.filter_height, g.filter_width};
  for (int64_t s : sizes) {
    if (s < 0) throw Error(std::string(op) + ": expected non-negative sizes in the geometry");
  }
  if (g.stride_height < 1 || g.stride_width < 1 || g.dilation_height < 1 || g.dilation_width < 1) {
    throw Error(std::string(op) + ": expected strides and dilations of at least 1");
  }
}

template <class LA, class LB, class Epi>
void Launch(const ConvLaunch& plan, LA la, LB lb, Epi epi, cudaStream_t stream) {
  ImplicitGemm<<<plan.grid, plan.block, 0, stream>>>(plan.m, plan.n, plan.k, plan.k_per_split, la, lb, epi);
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace

ConvLaunch PlanConv2D(ConvPass pass, const CudaConv2DGeometry& g, int sm_count) {
  ConvLaunch plan{};
  const int64_t out_pixels = g.batch * g.out_height * g.out_width;
  const int64_t taps = g.filter_height * g.filter_width;
  switch (pass) {
    case ConvPass::kForward:
      plan.m = out_pixels, plan.n = g.out_channels, plan.k = taps * g.in_channels;
      break;
    case ConvPass::kInput:
      plan.m = g.batch * g.in_height * g.in_width, plan.n = g.in_channels, plan.k = taps * g.out_channels;
      break;
    case ConvPass::kFilter:
      plan.m = taps * g.in_channels, plan.n = g.out_channels, plan.k = out_pixels;
      break;
  }
  const int64_t tiles = std::max<int64_t>(1, CeilDiv(plan.m, kBM) * CeilDiv(plan.n, kBN));
  int64_t splits = 1;
  if (pass == ConvPass::kFilter) {
    // Two blocks per multiprocessor, each with at least 8 slices of K to amortize its tile.
    const int64_t wanted = CeilDiv(2 * static_cast<int64_t>(std::max(sm_count, 1)), tiles);
    splits = std::max<int64_t>(1, std::min({wanted, CeilDiv(plan.k, 8 * kBK), kMaxSplits}));
  }
  plan.k_per_split = splits > 1 ? CeilDiv(CeilDiv(plan.k, splits), kBK) * kBK : std::max<int64_t>(plan.k, 1);
  splits = splits > 1 ? CeilDiv(plan.k, plan.k_per_split) : 1;
  plan.workspace_floats = splits > 1 ? static_cast<size_t>(splits * plan.m * plan.n) : 0;
  plan.block = dim3(kThreads);
  plan.grid = dim3(static_cast<unsigned>(std::max<int64_t>(1, CeilDiv(plan.m, kBM))),
                   static_cast<unsigned>(std::max<int64_t>(1, CeilDiv(plan.n, kBN))), static_cast<unsigned>(splits));
  return plan;
}

void Conv2DCuda(const CudaConv2DGeometry& g, const float* x, const float* filter, const float* bias,
                CudaActivation activation, float leaky_alpha, float* y, int sm_count, cudaStream_t stream) {
  CheckGeometry(g, "conv2d");
  const ConvLaunch plan = PlanConv2D(ConvPass::kForward, g, sm_count);
  if (plan.m == 0 || plan.n == 0) return;
  if (CeilDiv(plan.n, kBN) > kMaxGridY) throw Error("conv2d: too many output channels for one launch");
  Launch(plan, ForwardA{x, g}, RowMajorB{filter, plan.n}, ForwardEpilogue{y, bias, activation, leaky_alpha, plan.n},
         stream);
}

void Conv2DBackpropInputCuda(const CudaConv2DGeometry& g, const float* dy, const float* filter, float* dx,
                             int sm_count, cudaStream_t stream) {
  CheckGeometry(g, "conv2dBackpropInput");
  const ConvLaunch plan = PlanConv2D(ConvPass::kInput, g, sm_count);
  if (plan.m == 0 || plan.n == 0) return;
  if (CeilDiv(plan.n, kBN) > kMaxGridY) throw Error("conv2dBackpropInput: too many input channels for one launch");
  Launch(plan, InputGradA{dy, g}, InputGradB{filter, g}, StoreEpilogue{dx, plan.n, 0}, stream);
}

void Conv2DBackpropFilterCuda(const CudaConv2DGeometry& g, const float* x, const float* dy, float* dfilter,
                              float* workspace, int sm_count, cudaStream_t stream) {
  CheckGeometry(g, "conv2dBackpropFilter");
  const ConvLaunch plan = PlanConv2D(ConvPass::kFilter, g, sm_count);
  if (plan.m == 0 || plan.n == 0) return;
  if (CeilDiv(plan.n, kBN) > kMaxGridY) throw Error("conv2dBackpropFilter: too many output channels for one launch");
  if (plan.grid.z == 1) {
    Launch(plan, FilterGradA{x, g}, RowMajorB{dy, plan.n}, StoreEpilogue{dfilter, plan.n, 0}, stream);
    return;
  }
  if (workspace == nullptr) throw Error("conv2dBackpropFilter: expected a workspace for the split K");
  const int64_t slab = plan.m * plan.n;
  Launch(plan, FilterGradA{x, g}, RowMajorB{dy, plan.n}, StoreEpilogue{workspace, plan.n, slab}, stream);
  SumSplits<<<cuda_detail::GridFor(slab, 256), 256, 0, stream>>>(workspace, plan.grid.z, slab, dfilter);
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace tessera
