#include "cpu/matmul.h"

#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "core/thread_pool.h"

namespace tessera {
namespace {

// Work per chunk when threading across the batch or across int32 rows: half the engine's
// threshold, so that a batch is split once its total work would be.
constexpr double kChunkMacs = kSgemmParallelMacs / 2;

struct Dims {
  int64_t m, n, k;
  Shape batch;  // broadcast batch dimensions of the output
  Shape out;
};

Dims GetDims(const Shape& a_shape, const Shape& b_shape, bool trans_a, bool trans_b, const std::string& op) {
  if (a_shape.size() < 2) ThrowArgError(op, "a", "rank >= 2", "shape " + ShapeToString(a_shape));
  if (b_shape.size() < 2) ThrowArgError(op, "b", "rank >= 2", "shape " + ShapeToString(b_shape));
  const size_t ra = a_shape.size();
  const size_t rb = b_shape.size();
  Dims d;
  d.m = trans_a ? a_shape[ra - 1] : a_shape[ra - 2];
  d.k = trans_a ? a_shape[ra - 2] : a_shape[ra - 1];
  const int64_t kb = trans_b ? b_shape[rb - 1] : b_shape[rb - 2];
  d.n = trans_b ? b_shape[rb - 2] : b_shape[rb - 1];
  if (kb != d.k) {
    ThrowArgError(op, "b", "inner dimension " + std::to_string(d.k) + " (that of a" + (trans_a ? ", transposed" : "") + ")",
                  std::to_string(kb) + " in shape " + ShapeToString(b_shape) + (trans_b ? " transposed" : ""));
  }
  d.batch = BroadcastShapes(Shape(a_shape.begin(), a_shape.end() - 2), Shape(b_shape.begin(), b_shape.end() - 2), op);
  d.out = d.batch;
  d.out.push_back(d.m);
  d.out.push_back(d.n);
  return d;
}

// For each output batch, the element offset of its matrix in an operand whose batch dimensions
// (`strides`, aligned to `batch`) broadcast to `batch`.
std::vector<int64_t> BatchOffsets(const Shape& batch, const std::vector<int64_t>& strides) {
  const int64_t count = ShapeSize(batch);
  std::vector<int64_t> offsets(static_cast<size_t>(count));
  Shape index(batch.size(), 0);
  for (int64_t bi = 0; bi < count; bi++) {
    int64_t offset = 0;
    for (size_t d = 0; d < batch.size(); d++) offset += index[d] * strides[d];
    offsets[static_cast<size_t>(bi)] = offset;
    for (size_t d = batch.size(); d-- > 0;) {
      if (++index[d] < batch[d]) break;
      index[d] = 0;
    }
  }
  return offsets;
}

std::vector<int64_t> MatrixOffsets(const Shape& shape, const Shape& batch, int64_t matrix_size) {
  std::vector<int64_t> strides = BroadcastStrides(Shape(shape.begin(), shape.end() - 2), batch);
  for (int64_t& s : strides) s *= matrix_size;
  return BatchOffsets(batch, strides);
}

// How a bias or prelu operand reaches the engine's Epilogue for each batch: a row of n values
// (per column) or an m x n block (per element), read in place when its layout already is one,
// otherwise gathered into a scratch buffer first (scalars, [m, 1] columns and the like).
struct OperandPlan {
  const float* data = nullptr;
  bool per_element = false;
  bool in_place = false;
  int64_t row_stride = 0;
  int64_t col_stride = 0;
  std::vector<int64_t> offsets;  // per output batch
};

OperandPlan Plan(const float* data, const Shape& shape, const Dims& d, const char* op, const char* arg) {
  OperandPlan plan;
  if (data == nullptr) return plan;
  if (BroadcastShapes(d.out, shape, op) != d.out) {
    ThrowArgError(op, arg, "a shape that broadcasts to " + ShapeToString(d.out), ShapeToString(shape));
  }
  std::vector<int64_t> strides = BroadcastStrides(shape, d.out);
  const size_t r = d.out.size();
  plan.data = data;
  plan.row_stride = strides[r - 2];
  plan.col_stride = strides[r - 1];
  plan.offsets = BatchOffsets(d.batch, std::vector<int64_t>(strides.begin(), strides.end() - 2));
  const bool columns_contiguous = plan.col_stride == 1 || d.n == 1;
  plan.per_element = !(plan.row_stride == 0 || d.m == 1);
  plan.in_place = columns_contiguous && (!plan.per_element || plan.row_stride == d.n);
  return plan;
}

// Points `*ptr` at the operand's values for batch bi, gathering them into `scratch` if needed.
void Resolve(const OperandPlan& plan, const Dims& d, int64_t bi, const float** ptr, bool* per_element,
             std::vector<float>& scratch) {
  if (plan.data == nullptr) return;
  const float* base = plan.data + plan.offsets[static_cast<size_t>(bi)];
  *per_element = plan.per_element;
  if (plan.in_place) {
    *ptr = base;
    return;
  }
  const int64_t rows = plan.per_element ? d.m : 1;
  scratch.resize(static_cast<size_t>(rows * d.n));
  for (int64_t i = 0; i < rows; i++) {
    for (int64_t j = 0; j < d.n; j++) scratch[i * d.n + j] = base[i * plan.row_stride + j * plan.col_stride];
  }
  *ptr = scratch.data();
}

// Whether every batch uses the operand in the way one product of batch * m rows would: the
// same row of n values, or consecutive m x n blocks.
bool FoldsAcrossBatch(const OperandPlan& plan, const Dims& d) {
  if (plan.data == nullptr) return true;
  for (size_t bi = 0; bi < plan.offsets.size(); bi++) {
    const int64_t expected = plan.per_element ? plan.offsets[0] + static_cast<int64_t>(bi) * d.m * d.n : plan.offsets[0];
    if (plan.offsets[bi] != expected) return false;
  }
  return !plan.per_element || plan.in_place;
}

}  // namespace

Activation ParseActivation(const std::string& name, const std::string& op) {
  if (name == "linear") return Activation::kNone;
  if (name == "relu") return Activation::kRelu;
  if (name == "relu6") return Activation::kRelu6;
  if (name == "leakyrelu") return Activation::kLeakyRelu;
  if (name == "prelu") return Activation::kPrelu;
  if (name == "elu") return Activation::kElu;
  if (name == "sigmoid") return Activation::kSigmoid;
  ThrowArgError(op, "activation", "one of linear, relu, relu6, leakyrelu, prelu, elu, sigmoid", "'" + name + "'");
}

Shape MatMulShape(const Shape& a_shape, const Shape& b_shape, bool trans_a, bool trans_b, const std::string& op) {
  return GetDims(a_shape, b_shape, trans_a, trans_b, op).out;
}

void MatMul(const float* a, const Shape& a_shape, const float* b, const Shape& b_shape, bool trans_a, bool trans_b,
            float* out, const MatMulEpilogue& epilogue) {
  const Dims d = GetDims(a_shape, b_shape, trans_a, trans_b, "matMul");
  const int64_t count = ShapeSize(d.batch);
  if (count == 0 || d.m == 0 || d.n == 0) return;
  if (epilogue.activation == Activation::kPrelu && epilogue.prelu_alpha == nullptr) {
    ThrowArgError("matMul", "preluActivationWeights", "a tensor when the activation is prelu", "none");
  }
  const std::vector<int64_t> a_offsets = MatrixOffsets(a_shape, d.batch, d.m * d.k);
  const std::vector<int64_t> b_offsets = MatrixOffsets(b_shape, d.batch, d.k * d.n);
  const OperandPlan bias = Plan(epilogue.bias, epilogue.bias_shape, d, "matMul", "bias");
  const OperandPlan prelu = Plan(epilogue.activation == Activation::kPrelu ? epilogue.prelu_alpha : nullptr,
                                 epilogue.prelu_shape, d, "matMul", "preluActivationWeights");
  const int64_t lda = trans_a ? d.m : d.k;
  const int64_t ldb = trans_b ? d.k : d.n;

  auto run = [&](int64_t bi, int64_t rows) {
    Epilogue e;
    e.activation = epilogue.activation;
    e.leaky_alpha = epilogue.leaky_alpha;
    std::vector<float> bias_scratch;
    std::vector<float> prelu_scratch;
    Resolve(bias, d, bi, &e.bias, &e.bias_per_element, bias_scratch);
    Resolve(prelu, d, bi, &e.prelu_alpha, &e.prelu_per_element, prelu_scratch);
    Sgemm(trans_a, trans_b, rows, d.n, d.k, a + a_offsets[bi], lda, b + b_offsets[bi], ldb, out + bi * d.m * d.n,
          d.n, false, e);
  };

  // A batch of A against one shared B is a single product of count * m rows: one packing of
  // B and one thread split for the whole batch.
  bool one_product = count > 1 && !trans_a && FoldsAcrossBatch(bias, d) && FoldsAcrossBatch(prelu, d);
  for (int64_t bi = 0; one_product && bi < count; bi++) {
    one_product = b_offsets[bi] == b_offsets[0] && a_offsets[bi] == bi * d.m * d.k;
  }
  if (count == 1 || one_product) {
    run(0, count * d.m);
    return;
  }
  const double macs = static_cast<double>(d.m) * static_cast<double>(d.n) * static_cast<double>(d.k);
  // Threads take whole products when there are several per thread (no split inside a product
  // is as even), or when the products are too small to split; a few big ones are threaded
  // inside, where the parts are finer (measured: 4 x 512^3 on 2 threads runs at 300 GFLOP/s
  // a product per thread, 410 split inside; 8 x 256^3 the other way round).
  if (macs >= kSgemmParallelMacs && count < 4 * NumThreads()) {
    for (int64_t bi = 0; bi < count; bi++) run(bi, d.m);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kChunkMacs / std::max(macs, 1.0)));
  ParallelFor(count, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t bi = b0; bi < b1; bi++) run(bi, d.m);
  });
}

void MatMulInt32(const int32_t* a, const Shape& a_shape, const int32_t* b, const Shape& b_shape, bool trans_a,
                 bool trans_b, int32_t* out) {
  const Dims d = GetDims(a_shape, b_shape, trans_a, trans_b, "matMul");
  const int64_t count = ShapeSize(d.batch);
  if (count == 0 || d.m == 0 || d.n == 0) return;
  const std::vector<int64_t> a_offsets = MatrixOffsets(a_shape, d.batch, d.m * d.k);
  const std::vector<int64_t> b_offsets = MatrixOffsets(b_shape, d.batch, d.k * d.n);
  const int64_t lda = trans_a ? d.m : d.k;
  const int64_t ldb = trans_b ? d.k : d.n;
  const double row_macs = static_cast<double>(d.n) * static_cast<double>(std::max<int64_t>(d.k, 1));
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kChunkMacs / row_macs));
  // Unsigned arithmetic wraps modulo 2^32, which is what the int32 result keeps of the exact sum.
  ParallelFor(count * d.m, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t bi = r / d.m;
      const int64_t i = r % d.m;
      const uint32_t* ab = reinterpret_cast<const uint32_t*>(a + a_offsets[bi]);
      const uint32_t* bb = reinterpret_cast<const uint32_t*>(b + b_offsets[bi]);
      uint32_t* __restrict row = reinterpret_cast<uint32_t*>(out + bi * d.m * d.n + i * d.n);
      if (trans_b) {
        for (int64_t j = 0; j < d.n; j++) {
          uint32_t sum = 0;
          for (int64_t p = 0; p < d.k; p++) sum += (trans_a ? ab[p * lda + i] : ab[i * lda + p]) * bb[j * ldb + p];
          row[j] = sum;
        }
      } else {
        std::fill(row, row + d.n, 0u);
        for (int64_t p = 0; p < d.k; p++) {
          const uint32_t av = trans_a ? ab[p * lda + i] : ab[i * lda + p];
          const uint32_t* __restrict brow = bb + p * ldb;
          for (int64_t j = 0; j < d.n; j++) row[j] += av * brow[j];
        }
      }
    }
  });
}

namespace {

// The flat index into `in` of the element that numpy broadcasting maps to flat index `flat`
// of `out` (in aligned to the right of out, size-1 dimensions repeated).
int64_t BroadcastIndex(const Shape& out, const Shape& in, int64_t flat) {
  int64_t index = 0;
  int64_t in_stride = 1;
  for (size_t d = out.size(), e = in.size(); d-- > 0;) {
    const int64_t coord = flat % out[d];
    flat /= out[d];
    if (e > 0) {
      e--;
      if (in[e] != 1) index += coord * in_stride;
      in_stride *= in[e];
    }
  }
  return index;
}

template <typename T, typename Acc, typename Finish>
void ReferenceProduct(const T* a, const Shape& a_shape, const T* b, const Shape& b_shape, bool trans_a, bool trans_b,
                      T* out, Finish finish) {
  const Dims d = GetDims(a_shape, b_shape, trans_a, trans_b, "matMulRef");
  const Shape a_batch(a_shape.begin(), a_shape.end() - 2);
  const Shape b_batch(b_shape.begin(), b_shape.end() - 2);
  const int64_t count = ShapeSize(d.batch);
  for (int64_t bi = 0; bi < count; bi++) {
    const T* am = a + BroadcastIndex(d.batch, a_batch, bi) * d.m * d.k;
    const T* bm = b + BroadcastIndex(d.batch, b_batch, bi) * d.k * d.n;
    for (int64_t i = 0; i < d.m; i++) {
      for (int64_t j = 0; j < d.n; j++) {
        Acc acc = 0;
        for (int64_t p = 0; p < d.k; p++) {
          const T av = trans_a ? am[p * d.m + i] : am[i * d.k + p];
          const T bv = trans_b ? bm[j * d.k + p] : bm[p * d.n + j];
          acc += static_cast<Acc>(av) * static_cast<Acc>(bv);
        }
        const int64_t flat = (bi * d.m + i) * d.n + j;
        out[flat] = finish(acc, flat, d.out);
      }
    }
  }
}

}  // namespace

void MatMulRef(const float* a, const Shape& a_shape, const float* b, const Shape& b_shape, bool trans_a,
               bool trans_b, float* out, const MatMulEpilogue& e) {
  ReferenceProduct<float, double>(a, a_shape, b, b_shape, trans_a, trans_b, out,
                                  [&](double acc, int64_t flat, const Shape& out_shape) {
                                    float v = static_cast<float>(acc);
                                    if (e.bias != nullptr) v += e.bias[BroadcastIndex(out_shape, e.bias_shape, flat)];
                                    float alpha = 0.0f;
                                    if (e.activation == Activation::kPrelu) {
                                      alpha = e.prelu_alpha[BroadcastIndex(out_shape, e.prelu_shape, flat)];
                                    }
                                    return ApplyActivation(e.activation, v, e.leaky_alpha, alpha);
                                  });
}

void MatMulInt32Ref(const int32_t* a, const Shape& a_shape, const int32_t* b, const Shape& b_shape, bool trans_a,
                    bool trans_b, int32_t* out) {
  // Unsigned: the products and sums wrap (mod 2^64, then 2^32) instead of overflowing.
  ReferenceProduct<int32_t, uint64_t>(a, a_shape, b, b_shape, trans_a, trans_b, out,
                                      [](uint64_t acc, int64_t, const Shape&) {
                                       return static_cast<int32_t>(static_cast<uint32_t>(acc));
                                     });
}

}  // namespace tessera
