#include "lab.cuh"

#include <climits>
#include <string>

#include "common.cuh"
#include "cuda/check.h"
#include "sgemm.cuh"

namespace tessera {

namespace {

__global__ void SgemmNaive(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  if (row >= m || col >= n) return;
  float acc = 0.0f;
  for (int64_t p = 0; p < k; p++) acc = fmaf(a[row * k + p], b[p * n + col], acc);
  c[row * n + col] = acc;
}

constexpr int kSmemTile = 32;

__global__ void SgemmSmem(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  __shared__ float as[kSmemTile][kSmemTile];
  __shared__ float bs[kSmemTile][kSmemTile + 1];
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kSmemTile + threadIdx.x;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * kSmemTile + threadIdx.y;
  float acc = 0.0f;
  for (int64_t p0 = 0; p0 < k; p0 += kSmemTile) {
    as[threadIdx.y][threadIdx.x] = (row < m && p0 + threadIdx.x < k) ? a[row * k + p0 + threadIdx.x] : 0.0f;
    bs[threadIdx.y][threadIdx.x] = (col < n && p0 + threadIdx.y < k) ? b[(p0 + threadIdx.y) * n + col] : 0.0f;
    __syncthreads();
#pragma unroll
    for (int p = 0; p < kSmemTile; p++) acc = fmaf(as[threadIdx.y][p], bs[p][threadIdx.x], acc);
    __syncthreads();
  }
  if (row < m && col < n) c[row * n + col] = acc;
}

__global__ void ConvDirect(CudaConv2DGeometry g, const float* x, const float* w, float* y, int64_t total) {
  for (int64_t e = cuda_detail::GlobalThread(); e < total; e += cuda_detail::GridStride()) {
    const int64_t oc = e % g.out_channels;
    const int64_t ow = (e / g.out_channels) % g.out_width;
    const int64_t oh = (e / (g.out_channels * g.out_width)) % g.out_height;
    const int64_t n = e / (g.out_channels * g.out_width * g.out_height);
    float acc = 0.0f;
    for (int64_t fh = 0; fh < g.filter_height; fh++) {
      const int64_t ih = oh * g.stride_height - g.pad_top + fh * g.dilation_height;
      if (ih < 0 || ih >= g.in_height) continue;
      for (int64_t fw = 0; fw < g.filter_width; fw++) {
        const int64_t iw = ow * g.stride_width - g.pad_left + fw * g.dilation_width;
        if (iw < 0 || iw >= g.in_width) continue;
        const float* xp = x + ((n * g.in_height + ih) * g.in_width + iw) * g.in_channels;
        const float* wp = w + (fh * g.filter_width + fw) * g.in_channels * g.out_channels + oc;
        for (int64_t ic = 0; ic < g.in_channels; ic++) acc = fmaf(xp[ic], wp[ic * g.out_channels], acc);
      }
    }
    y[e] = acc;
  }
}

}  // namespace

const char* SgemmLabName(int variant) {
  static const char* names[] = {"naive", "smem32", "sgemm64x64", "sgemm128x128", "wmma_tf32", "wmma_bf16"};
  return variant >= 1 && variant <= kSgemmLabVariants ? names[variant - 1] : nullptr;
}

const char* ConvLabName(int variant) {
  static const char* names[] = {"direct", "implicit_gemm"};
  return variant >= 1 && variant <= kConvLabVariants ? names[variant - 1] : nullptr;
}

void SgemmLab(int variant, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c, int sm_count,
              cudaStream_t stream) {
  if (SgemmLabName(variant) == nullptr) {
    throw Error("cudaSgemmLab: expected a variant in [1, " + std::to_string(kSgemmLabVariants) + "] but got " +
                std::to_string(variant));
  }
  if (m == 0 || n == 0) return;
  if (variant <= 2) {
    const dim3 block = variant == 1 ? dim3(16, 16) : dim3(kSmemTile, kSmemTile);
    const dim3 grid(static_cast<unsigned>((n + block.x - 1) / block.x), static_cast<unsigned>((m + block.y - 1) / block.y));
    if (variant == 1) SgemmNaive<<<grid, block, 0, stream>>>(m, n, k, a, b, c);
    else SgemmSmem<<<grid, block, 0, stream>>>(m, n, k, a, b, c);
    TESSERA_CUDA_CHECK_LAUNCH();
    return;
  }
  SgemmArgs args;
  args.m = m, args.n = n, args.k = k, args.a = a, args.b = b, args.c = c;
  args.precision = variant == 5 ? GemmPrecision::kTf32 : variant == 6 ? GemmPrecision::kBf16 : GemmPrecision::kFp32;
  // The planner takes 128 x 128 tiles once they fill `sm_count` multiprocessors: 1 forces
  // them, INT_MAX forces the 64 x 64 kernel.
  const int forced = variant == 3 ? INT_MAX : variant == 4 ? 1 : sm_count;
  SgemmCuda(args, forced, stream);
}

void ConvLab(int variant, const CudaConv2DGeometry& g, const float* x, const float* w, float* y, int sm_count,
             cudaStream_t stream) {
  if (ConvLabName(variant) == nullptr) {
    throw Error("cudaConvLab: expected a variant in [1, " + std::to_string(kConvLabVariants) + "] but got " +
                std::to_string(variant));
  }
  if (variant == 2) {
    Conv2DCuda(g, x, w, nullptr, CudaActivation::kLinear, 0.0f, y, sm_count, stream);
    return;
  }
  const int64_t total = g.batch * g.out_height * g.out_width * g.out_channels;
  if (total == 0) return;
  ConvDirect<<<cuda_detail::GridFor(total, 256), 256, 0, stream>>>(g, x, w, y, total);
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace tessera
