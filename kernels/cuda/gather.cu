#include "gather.cuh"

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

template <typename T>
__global__ void GatherKernel(const T* __restrict__ x, const int32_t* __restrict__ indices, CudaGatherGeometry g,
                             T* __restrict__ out, int64_t n) {
  for (int64_t e = cuda_detail::GlobalThread(); e < n; e += cuda_detail::GridStride()) {
    const int64_t j = e % g.inner;
    int64_t rest = e / g.inner;
    const int64_t i = rest % g.count;
    rest /= g.count;
    const int64_t o = rest % g.outer;
    const int64_t b = rest / g.outer;
    const int64_t index = indices[b * g.count + i];
    out[e] = (index < 0 || index >= g.axis_size) ? T(0) : x[((b * g.outer + o) * g.axis_size + index) * g.inner + j];
  }
}

}  // namespace

void GatherCuda(DType dtype, const void* x, const int32_t* indices, const CudaGatherGeometry& g, void* out,
                cudaStream_t stream) {
  const int64_t n = g.batch * g.outer * g.count * g.inner;
  if (n == 0) return;
  const unsigned grid = cuda_detail::GridFor(n, 256);
  if (DTypeSize(dtype) == 4) {
    GatherKernel<uint32_t><<<grid, 256, 0, stream>>>(static_cast<const uint32_t*>(x), indices, g,
                                                     static_cast<uint32_t*>(out), n);
  } else {
    GatherKernel<uint8_t><<<grid, 256, 0, stream>>>(static_cast<const uint8_t*>(x), indices, g,
                                                    static_cast<uint8_t*>(out), n);
  }
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace tessera
