#include "sgemm.cuh"

#include <cuda_bf16.h>
#include <mma.h>

#include <algorithm>
#include <string>

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

using cuda_detail::Activate;

constexpr int kBK = 8;
constexpr int kThreads = 256;
constexpr int64_t kMaxGridZ = 65535;
constexpr int64_t kMaxGridY = 65535;

// Elements (row, col .. col + 3) of a rows x cols row-major matrix with leading dimension
// ld, zeros outside it. With `vec` the caller guarantees cols % 4 == 0 and a 16-byte aligned
// base, so a quad starting at a multiple of 4 is wholly inside or wholly outside.
__device__ __forceinline__ float4 LoadQuad(const float* base, int64_t row, int64_t col, int64_t rows, int64_t cols,
                                           int64_t ld, bool vec) {
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  if (row >= rows || col >= cols) return v;
  const float* p = base + row * ld + col;
  if (vec) return __ldg(reinterpret_cast<const float4*>(p));
  v.x = __ldg(p);
  if (col + 1 < cols) v.y = __ldg(p + 1);
  if (col + 2 < cols) v.z = __ldg(p + 2);
  if (col + 3 < cols) v.w = __ldg(p + 3);
  return v;
}

// One BM x BN tile of C per block of 256 threads laid out 16 x 16; each thread owns TM x TN
// outputs in groups of 4 rows (and 4 columns) spaced BM * 4 / TM apart, so its float4 reads
// of the shared tiles fall on distinct banks across a warp. Tiles of A are stored k-major
// (As[k][m]) whatever A's layout, padded by 4 floats to keep transposing stores conflict-free.
// The next K slice is loaded into registers while the current one is multiplied, then stored
// into the other shared buffer: one __syncthreads per slice.
template <int BM, int BN, int TM, int TN, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kThreads) SgemmTiled(SgemmArgs args, int64_t batch_offset, bool vec_a, bool vec_b,
                                                       bool vec_c) {
  static_assert((BM / TM) == 16 && (BN / TN) == 16, "256 threads as 16 x 16");
  static_assert(TM % 4 == 0 && TN % 4 == 0, "register blocks in quads");
  constexpr int kPadA = BM + 4;
  constexpr int kPadB = BN + 4;
  constexpr int kQuadsA = BM * kBK / 4;
  constexpr int kQuadsB = BN * kBK / 4;
  constexpr int kLoadsA = (kQuadsA + kThreads - 1) / kThreads;
  constexpr int kLoadsB = (kQuadsB + kThreads - 1) / kThreads;
  constexpr int kGroupA = BM * 4 / TM;
  constexpr int kGroupB = BN * 4 / TN;
  __shared__ __align__(16) float As[2][kBK][kPadA];
  __shared__ __align__(16) float Bs[2][kBK][kPadB];

  const int64_t batch = batch_offset + blockIdx.z;
  const float* A = args.a + batch * args.a_batch_stride;
  const float* B = args.b + batch * args.b_batch_stride;
  float* C = args.c + batch * args.m * args.n;
  const int64_t M = args.m, N = args.n, K = args.k;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * BN;
  const int t = threadIdx.x;
  const int tx = t % 16;
  const int ty = t / 16;

  float4 ra[kLoadsA];
  float4 rb[kLoadsB];
  auto load_slice = [&](int64_t k0) {
#pragma unroll
    for (int l = 0; l < kLoadsA; l++) {
      const int q = t + l * kThreads;
      if (q < kQuadsA) {
        if (!kTransA) {  // stored M x K: a row of the tile holds kBK consecutive k
          ra[l] = LoadQuad(A, m0 + q / (kBK / 4), k0 + (q % (kBK / 4)) * 4, M, K, K, vec_a);
        } else {  // stored K x M
          ra[l] = LoadQuad(A, k0 + q / (BM / 4), m0 + (q % (BM / 4)) * 4, K, M, M, vec_a);
        }
      }
    }
#pragma unroll
    for (int l = 0; l < kLoadsB; l++) {
      const int q = t + l * kThreads;
      if (q < kQuadsB) {
        if (!kTransB) {  // stored K x N
          rb[l] = LoadQuad(B, k0 + q / (BN / 4), n0 + (q % (BN / 4)) * 4, K, N, N, vec_b);
        } else {  // stored N x K
          rb[l] = LoadQuad(B, n0 + q / (kBK / 4), k0 + (q % (kBK / 4)) * 4, N, K, K, vec_b);
        }
      }
    }
  };
  auto store_slice = [&](int buf) {
#pragma unroll
    for (int l = 0; l < kLoadsA; l++) {
      const int q = t + l * kThreads;
      if (q < kQuadsA) {
        if (!kTransA) {
          const int r = q / (kBK / 4), c = (q % (kBK / 4)) * 4;
          As[buf][c + 0][r] = ra[l].x;
          As[buf][c + 1][r] = ra[l].y;
          As[buf][c + 2][r] = ra[l].z;
          As[buf][c + 3][r] = ra[l].w;
        } else {
          *reinterpret_cast<float4*>(&As[buf][q / (BM / 4)][(q % (BM / 4)) * 4]) = ra[l];
        }
      }
    }
#pragma unroll
    for (int l = 0; l < kLoadsB; l++) {
      const int q = t + l * kThreads;
      if (q < kQuadsB) {
        if (!kTransB) {
          *reinterpret_cast<float4*>(&Bs[buf][q / (BN / 4)][(q % (BN / 4)) * 4]) = rb[l];
        } else {
          const int r = q / (kBK / 4), c = (q % (kBK / 4)) * 4;
          Bs[buf][c + 0][r] = rb[l].x;
          Bs[buf][c + 1][r] = rb[l].y;
          Bs[buf][c + 2][r] = rb[l].z;
          Bs[buf][c + 3][r] = rb[l].w;
        }
      }
    }
  };

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; i++) {
#pragma unroll
    for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;
  }

  const int64_t slices = (K + kBK - 1) / kBK;
  if (slices > 0) {
    load_slice(0);
    store_slice(0);
  }
  __syncthreads();
  for (int64_t s = 0; s < slices; s++) {
    const int cur = static_cast<int>(s & 1);
    if (s + 1 < slices) load_slice((s + 1) * kBK);
#pragma unroll
    for (int kk = 0; kk < kBK; kk++) {
      float a[TM], b[TN];
#pragma unroll
      for (int g = 0; g < TM / 4; g++) {
        const float4 v = *reinterpret_cast<const float4*>(&As[cur][kk][g * kGroupA + ty * 4]);
        a[g * 4 + 0] = v.x;
        a[g * 4 + 1] = v.y;
        a[g * 4 + 2] = v.z;
        a[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int g = 0; g < TN / 4; g++) {
        const float4 v = *reinterpret_cast<const float4*>(&Bs[cur][kk][g * kGroupB + tx * 4]);
        b[g * 4 + 0] = v.x;
        b[g * 4 + 1] = v.y;
        b[g * 4 + 2] = v.z;
        b[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < TM; i++) {
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    // The other buffer was last read in slice s - 1, before the barrier that ended it.
    if (s + 1 < slices) store_slice(cur ^ 1);
    __syncthreads();
  }

#pragma unroll
  for (int g = 0; g < TM / 4; g++) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int64_t row = m0 + g * kGroupA + ty * 4 + i;
      if (row >= M) continue;
#pragma unroll
      for (int h = 0; h < TN / 4; h++) {
        const int64_t col = n0 + h * kGroupB + tx * 4;
        if (col >= N) continue;
        float v[4];
#pragma unroll
        for (int j = 0; j < 4; j++) {
          float x = acc[g * 4 + i][h * 4 + j];
          if (col + j < N) {
            if (args.bias != nullptr) x += __ldg(args.bias + col + j);
            x = Activate(args.activation, x, args.leaky_alpha);
          }
          v[j] = x;
        }
        float* out = C + row * N + col;
        if (vec_c) {
          *reinterpret_cast<float4*>(out) = make_float4(v[0], v[1], v[2], v[3]);
        } else {
#pragma unroll
          for (int j = 0; j < 4; j++) {
            if (col + j < N) out[j] = v[j];
          }
        }
      }
    }
  }
}

// ---- Tensor cores (WMMA, fp32 accumulation): opt-in, inputs rounded to TF32 or BF16 ----

struct Tf32 {
  using Elem = float;
  static constexpr int kFragK = 8;
  static constexpr int kPadA = 16 + 4;  // WMMA wants ldm % 4 == 0 for 32-bit elements
  static constexpr int kPadB = 64 + 4;
  using FragA = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 8, nvcuda::wmma::precision::tf32,
                                       nvcuda::wmma::row_major>;
  using FragB = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 8, nvcuda::wmma::precision::tf32,
                                       nvcuda::wmma::row_major>;
  using FragC = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 8, float>;
  __device__ static Elem Convert(float v) { return nvcuda::wmma::__float_to_tf32(v); }
};

struct Bf16 {
  using Elem = __nv_bfloat16;
  static constexpr int kFragK = 16;
  static constexpr int kPadA = 16 + 8;  // ldm % 8 == 0 for 16-bit elements
  static constexpr int kPadB = 64 + 8;
  using FragA = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, __nv_bfloat16, nvcuda::wmma::row_major>;
  using FragB = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, __nv_bfloat16, nvcuda::wmma::row_major>;
  using FragC = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>;
  __device__ static Elem Convert(float v) { return __float2bfloat16_rn(v); }
};

constexpr int kWmmaThreads = 128;

// A 64 x 64 tile per block of 4 warps, each warp 32 x 32 as 2 x 2 fragments. The operands
// are rounded to the tensor-core type as they are staged in shared memory; the accumulators
// go through shared memory once so that the epilogue (bounds, bias, activation) is per element.
template <class P, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kWmmaThreads) SgemmWmma(SgemmArgs args, int64_t batch_offset) {
  namespace wmma = nvcuda::wmma;
  constexpr int BM = 64, BN = 64, BK = 16, kPadC = BN + 4;
  using Elem = typename P::Elem;
  __shared__ __align__(128) Elem As[BM][P::kPadA];
  __shared__ __align__(128) Elem Bs[BK][P::kPadB];
  __shared__ __align__(128) float Cs[BM][kPadC];

  const int64_t batch = batch_offset + blockIdx.z;
  const float* A = args.a + batch * args.a_batch_stride;
  const float* B = args.b + batch * args.b_batch_stride;
  float* C = args.c + batch * args.m * args.n;
  const int64_t M = args.m, N = args.n, K = args.k;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * BN;
  const int t = threadIdx.x;
  const int warp = t / 32;
  const int wm = warp / 2, wn = warp % 2;

  typename P::FragC acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; i++) {
#pragma unroll
    for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);
  }

  for (int64_t k0 = 0; k0 < K; k0 += BK) {
    // Consecutive threads walk the operand's contiguous dimension.
    for (int idx = t; idx < BM * BK; idx += kWmmaThreads) {
      const int r = kTransA ? idx % BM : idx / BK;
      const int c = kTransA ? idx / BM : idx % BK;
      const int64_t m = m0 + r, k = k0 + c;
      float v = 0.0f;
      if (m < M && k < K) v = __ldg(kTransA ? A + k * M + m : A + m * K + k);
      As[r][c] = P::Convert(v);
    }
    for (int idx = t; idx < BK * BN; idx += kWmmaThreads) {
      const int r = kTransB ? idx % BK : idx / BN;
      const int c = kTransB ? idx / BK : idx % BN;
      const int64_t k = k0 + r, n = n0 + c;
      float v = 0.0f;
      if (k < K && n < N) v = __ldg(kTransB ? B + n * K + k : B + k * N + n);
      Bs[r][c] = P::Convert(v);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; kk += P::kFragK) {
      typename P::FragA fa[2];
      typename P::FragB fb[2];
#pragma unroll
      for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], &As[wm * 32 + i * 16][kk], P::kPadA);
#pragma unroll
      for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &Bs[kk][wn * 32 + j * 16], P::kPadB);
#pragma unroll
      for (int i = 0; i < 2; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 2; i++) {
#pragma unroll
    for (int j = 0; j < 2; j++) {
      wmma::store_matrix_sync(&Cs[wm * 32 + i * 16][wn * 32 + j * 16], acc[i][j], kPadC, wmma::mem_row_major);
    }
  }
  __syncthreads();
  for (int idx = t; idx < BM * BN; idx += kWmmaThreads) {
    const int r = idx / BN, c = idx % BN;
    const int64_t row = m0 + r, col = n0 + c;
    if (row >= M || col >= N) continue;
    float v = Cs[r][c];
    if (args.bias != nullptr) v += __ldg(args.bias + col);
    C[row * N + col] = Activate(args.activation, v, args.leaky_alpha);
  }
}

bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

template <int BM, int BN, int TM, int TN>
void LaunchTiled(const SgemmArgs& args, const GemmLaunch& plan, dim3 grid, int64_t offset, cudaStream_t stream) {
  auto go = [&](auto kernel) {
    kernel<<<grid, plan.block, 0, stream>>>(args, offset, plan.vector_a, plan.vector_b, plan.vector_c);
  };
  if (!args.trans_a && !args.trans_b) go(SgemmTiled<BM, BN, TM, TN, false, false>);
  else if (!args.trans_a && args.trans_b) go(SgemmTiled<BM, BN, TM, TN, false, true>);
  else if (args.trans_a && !args.trans_b) go(SgemmTiled<BM, BN, TM, TN, true, false>);
  else go(SgemmTiled<BM, BN, TM, TN, true, true>);
}

template <class P>
void LaunchWmma(const SgemmArgs& args, const GemmLaunch& plan, dim3 grid, int64_t offset, cudaStream_t stream) {
  auto go = [&](auto kernel) { kernel<<<grid, plan.block, 0, stream>>>(args, offset); };
  if (!args.trans_a && !args.trans_b) go(SgemmWmma<P, false, false>);
  else if (!args.trans_a && args.trans_b) go(SgemmWmma<P, false, true>);
  else if (args.trans_a && !args.trans_b) go(SgemmWmma<P, true, false>);
  else go(SgemmWmma<P, true, true>);
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

GemmLaunch PlanSgemm(const SgemmArgs& args, int sm_count) {
  GemmLaunch plan{};
  const int64_t z = std::max<int64_t>(1, std::min(args.batch, kMaxGridZ));
  plan.batch_chunks = std::max<int64_t>(1, CeilDiv(args.batch, kMaxGridZ));
  if (args.precision != GemmPrecision::kFp32) {
    plan.kernel = args.precision == GemmPrecision::kTf32 ? "wmma_tf32" : "wmma_bf16";
    plan.block = dim3(kWmmaThreads);
    plan.grid = dim3(static_cast<unsigned>(CeilDiv(args.n, 64)), static_cast<unsigned>(CeilDiv(args.m, 64)),
                     static_cast<unsigned>(z));
    return plan;
  }
  const int64_t contiguous_a = args.trans_a ? args.m : args.k;
  const int64_t contiguous_b = args.trans_b ? args.k : args.n;
  plan.vector_a = contiguous_a % 4 == 0 && args.a_batch_stride % 4 == 0 && Aligned16(args.a);
  plan.vector_b = contiguous_b % 4 == 0 && args.b_batch_stride % 4 == 0 && Aligned16(args.b);
  plan.vector_c = args.n % 4 == 0 && Aligned16(args.c);
  // 128 x 128 tiles once they fill every multiprocessor; smaller ones before that, so that
  // the small products of an MLP still spread over the GPU.
  const int64_t big_tiles = CeilDiv(args.m, 128) * CeilDiv(args.n, 128) * args.batch;
  const bool big = big_tiles >= sm_count;
  const int64_t tile = big ? 128 : 64;
  plan.kernel = big ? "sgemm128x128" : "sgemm64x64";
  plan.block = dim3(kThreads);
  plan.grid = dim3(static_cast<unsigned>(CeilDiv(args.n, tile)), static_cast<unsigned>(CeilDiv(args.m, tile)),
                   static_cast<unsigned>(z));
  return plan;
}

void SgemmCuda(const SgemmArgs& args, int sm_count, cudaStream_t stream) {
  if (args.batch <= 0 || args.m <= 0 || args.n <= 0) return;
  const GemmLaunch plan = PlanSgemm(args, sm_count);
  if (plan.grid.y > kMaxGridY || CeilDiv(args.n, 64) > 0x7fffffff) {
    throw Error("sgemm: expected at most " + std::to_string(kMaxGridY * 64) + " rows for m but got " +
                std::to_string(args.m));
  }
  const std::string kernel = plan.kernel;
  for (int64_t offset = 0; offset < args.batch; offset += kMaxGridZ) {
    dim3 grid = plan.grid;
    grid.z = static_cast<unsigned>(std::min(kMaxGridZ, args.batch - offset));
    if (kernel == "sgemm128x128") LaunchTiled<128, 128, 8, 8>(args, plan, grid, offset, stream);
    else if (kernel == "sgemm64x64") LaunchTiled<64, 64, 4, 4>(args, plan, grid, offset, stream);
    else if (kernel == "wmma_tf32") LaunchWmma<Tf32>(args, plan, grid, offset, stream);
    else LaunchWmma<Bf16>(args, plan, grid, offset, stream);
    TESSERA_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace tessera
