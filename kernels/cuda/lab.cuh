// The CUDA kernel lab (after llm.c's dev/cuda): numbered variants of SGEMM and of the
// forward convolution, from the plainest to the production kernels, so each step's gain is
// measured on the same inputs. bench/cuda_lab.mjs runs every variant on a GPU, checks it
// against the CPU reference (SgemmRef, Conv2DRef) and times it.
//
//   SGEMM (C = A * B, row-major, no transposes):
//     1  naive: one thread per output, operands from global memory
//     2  shared-memory tiles of 32 x 32, one output per thread
//     3  production sgemm64x64: 4 x 4 register blocks, float4 loads, double-buffered tiles
//     4  production sgemm128x128: 8 x 8 register blocks (the large-matrix kernel)
//     5  tensor cores, TF32 inputs (WMMA m16n16k8, fp32 accumulation)
//     6  tensor cores, BF16 inputs (WMMA m16n16k16, fp32 accumulation)
//   Conv2D forward (NHWC x HWIO):
//     1  direct: one thread per output, loops over the window and input channels
//     2  production implicit GEMM (kernels/cuda/conv2d.cu)
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "conv2d.cuh"

namespace tessera {

constexpr int kSgemmLabVariants = 6;
constexpr int kConvLabVariants = 2;
const char* SgemmLabName(int variant);
const char* ConvLabName(int variant);

void SgemmLab(int variant, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c, int sm_count,
              cudaStream_t stream);
void ConvLab(int variant, const CudaConv2DGeometry& g, const float* x, const float* w, float* y, int sm_count,
             cudaStream_t stream);

}  // namespace tessera
