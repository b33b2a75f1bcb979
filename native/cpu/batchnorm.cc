#include "cpu/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/errors.h"
#include "cpu/pool_isa.h"

namespace tessera {
namespace {

using pool_isa::GrainFor;
using pool_isa::ParallelRows;

const float kDefaultOffset = 0.0f;
const float kDefaultScale = 1.0f;

BatchNormParam OrDefault(BatchNormParam p, const float* fallback) {
  return p.data == nullptr ? BatchNormParam{fallback, 1} : p;
}

void CheckParam(BatchNormParam p, const char* op, const char* name) {
  if (p.data == nullptr || p.length < 1) {
    ThrowArgError(op, name, "at least one value", std::to_string(p.length) + " values");
  }
}

// Every parameter seen through one common period: element i uses entry i % period of each.
struct Periodic {
  int64_t period;
  std::vector<float> storage[3];
  const float* offset;
  const float* mean;
  const float* scale;
  std::vector<double> denominator;  // sqrt(variance + epsilon), in double as tfjs has it
};

// The parameters' common period is the lcm of their lengths. Past n it stops mattering (no
// index reaches it), and below a few hundred it is tiled up so the inner loops stay long.
int64_t CommonPeriod(const int64_t* lengths, int count, int64_t n) {
  int64_t period = 1;
  for (int k = 0; k < count; k++) {
    period = period / std::gcd(period, lengths[k]) * lengths[k];
    if (period >= n) return n;
  }
  constexpr int64_t kMinPeriod = 1024;
  return period < kMinPeriod ? period * ((kMinPeriod + period - 1) / period) : period;
}

const float* Tiled(BatchNormParam p, int64_t period, std::vector<float>& storage) {
  if (p.length == period) return p.data;
  storage.resize(static_cast<size_t>(period));
  for (int64_t j = 0; j < period; j++) storage[j] = p.data[j % p.length];
  return storage.data();
}

struct DenominatorBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const BatchNormParam& variance, const double& epsilon,
                                      double* const& out) {
    for (int64_t j = begin; j < end; j++) out[j] = std::sqrt(static_cast<double>(variance.data[j % variance.length]) + epsilon);
  }
};

struct BatchNormBody {
  static TESSERA_POOL_INLINE void Run(int64_t begin, int64_t end, const float* const& x, float* const& out,
                                      const Periodic& p) {
    for (int64_t start = begin; start < end;) {
      const int64_t phase = start % p.period;
      const int64_t len = std::min(end - start, p.period - phase);
      const float* __restrict xs = x + start;
      float* __restrict o = out + start;
      const float* __restrict offset = p.offset + phase;
      const float* __restrict mean = p.mean + phase;
      const float* __restrict scale = p.scale + phase;
      const double* __restrict denominator = p.denominator.data() + phase;
      for (int64_t j = 0; j < len; j++) {
        const double normalized = (static_cast<double>(xs[j]) - mean[j]) * scale[j] / denominator[j];
        o[j] = static_cast<float>(offset[j] + normalized);
      }
      start += len;
    }
  }
};

}  // namespace

void BatchNorm(const float* x, int64_t n, BatchNormParam mean, BatchNormParam variance, BatchNormParam offset,
               BatchNormParam scale, double epsilon, float* out) {
  offset = OrDefault(offset, &kDefaultOffset);
  scale = OrDefault(scale, &kDefaultScale);
  CheckParam(mean, "batchNorm", "mean");
  CheckParam(variance, "batchNorm", "variance");
  CheckParam(offset, "batchNorm", "offset");
  CheckParam(scale, "batchNorm", "scale");
  if (n <= 0) return;
  const int64_t lengths[] = {offset.length, mean.length, scale.length, variance.length};
  Periodic p;
  p.period = CommonPeriod(lengths, 4, n);
  p.offset = Tiled(offset, p.period, p.storage[0]);
  p.mean = Tiled(mean, p.period, p.storage[1]);
  p.scale = Tiled(scale, p.period, p.storage[2]);
  p.denominator.resize(static_cast<size_t>(p.period));
  double* denominator = p.denominator.data();
  ParallelRows<DenominatorBody>(p.period, GrainFor(8), variance, epsilon, denominator);
  ParallelRows<BatchNormBody>(n, GrainFor(4), x, out, p);
}

void BatchNormRef(const float* x, int64_t n, BatchNormParam mean, BatchNormParam variance, BatchNormParam offset,
                  BatchNormParam scale, double epsilon, float* out) {
  offset = OrDefault(offset, &kDefaultOffset);
  scale = OrDefault(scale, &kDefaultScale);
  CheckParam(mean, "batchNormRef", "mean");
  CheckParam(variance, "batchNormRef", "variance");
  CheckParam(offset, "batchNormRef", "offset");
  CheckParam(scale, "batchNormRef", "scale");
  int64_t off_i = 0, mean_i = 0, scale_i = 0, var_i = 0;
  for (int64_t i = 0; i < n; i++) {
    out[i] = static_cast<float>(offset.data[off_i++] + (static_cast<double>(x[i]) - mean.data[mean_i++]) * scale.data[scale_i++] /
                                                           std::sqrt(static_cast<double>(variance.data[var_i++]) + epsilon));
    if (off_i >= offset.length) off_i = 0;
    if (mean_i >= mean.length) mean_i = 0;
    if (scale_i >= scale.length) scale_i = 0;
    if (var_i >= variance.length) var_i = 0;
  }
}

}  // namespace tessera
