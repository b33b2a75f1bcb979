// Batch normalization as tfjs-backend-cpu's FusedBatchNorm computes it:
//   out[i] = offset[i % |offset|] + (x[i] - mean[i % |mean|]) * scale[i % |scale|]
//                                   / sqrt(variance[i % |variance|] + epsilon)
// in double, rounded to float32 once. Indexing every parameter modulo its own length is
// what tfjs does, which covers 1-D parameters broadcast over the last axis, scalars, and
// parameters of x's full shape alike.
#pragma once
#include <cstdint>

namespace tessera {

struct BatchNormParam {
  const float* data;
  int64_t length;  // >= 1
};

// offset and scale may be {nullptr, 0}: tfjs then uses 0 and 1.
void BatchNorm(const float* x, int64_t n, BatchNormParam mean, BatchNormParam variance, BatchNormParam offset,
               BatchNormParam scale, double epsilon, float* out);
void BatchNormRef(const float* x, int64_t n, BatchNormParam mean, BatchNormParam variance, BatchNormParam offset,
                  BatchNormParam scale, double epsilon, float* out);

}  // namespace tessera
