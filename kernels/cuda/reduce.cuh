// Reductions on CUDA (Sum, Mean, Prod, Max, Min, ArgMax, ArgMin over any set of axes) with
// tfjs-backend-cpu's semantics (native/cpu/reduce.h): sums in double, NaN wins Max and Min,
// ArgMax/ArgMin take the first extreme and skip NaN unless the first element is NaN, empty
// reductions give tfjs's values. Reduced axes that are not innermost are first transposed
// innermost into a workspace; the [rows, cols] reduction then runs one warp per row (short
// rows) or one block per row, combining partial results with warp shuffles.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "cpu/reduce.h"

namespace tessera {

bool CudaReduceSupports(ReduceOp op, DType dtype);

struct ReduceLaunch {
  std::vector<int64_t> perm;  // kept axes then reduced axes; empty when no transpose is needed
  int64_t rows, cols;
  bool warp_per_row;
  size_t workspace_bytes;  // the transposed input, 0 when none
};
ReduceLaunch PlanReduceCuda(DType dtype, const Shape& shape, const std::vector<int64_t>& axes);

// out has ReduceOutputDType(op, dtype); `workspace` holds PlanReduceCuda(...).workspace_bytes.
void ReduceCuda(ReduceOp op, DType dtype, const void* x, const Shape& shape, const std::vector<int64_t>& axes,
                void* out, void* workspace, cudaStream_t stream);

}  // namespace tessera
