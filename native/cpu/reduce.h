// Reductions and the kernels that reduce along an axis (softmax, cumulative sums and
// products, top-k), matching tfjs-backend-cpu's semantics: its Sum, Mean, Prod, Max, Min,
// All, Any, ArgMax, ArgMin, Softmax, Cumsum, Cumprod and TopK kernels.
//
// tfjs transposes the reduced axes innermost and then reduces contiguous blocks, in JS
// doubles. These kernels read the input in place over any set of axes, and reproduce the
// same per-element arithmetic: float sums accumulate in double, products and cumulative
// ops run in tfjs's order, max/min/argmax keep tfjs's comparison rules (NaN handling and the
// first of equal values).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace tessera {

enum class ReduceOp { kSum, kMean, kProd, kMax, kMin, kAll, kAny, kArgMax, kArgMin };

// Parses a tfjs kernel name (Sum, Mean, ...); throws for an unknown name.
ReduceOp ParseReduceOp(const std::string& name);
// tfjs's output dtype: Sum and Prod upcast bool to int32, Mean is always float32, ArgMax and
// ArgMin give int32, the others keep the input dtype.
DType ReduceOutputDType(ReduceOp op, DType in);
// Whether the native kernels take `in` for `op` (All and Any take bool only).
bool ReduceAcceptsDType(ReduceOp op, DType in);

// out = op over `axes` (distinct, each in [0, rank)) of x; out has the kept dims in order.
// Reducing over no elements gives tfjs's value: 0 for Sum, Mean, All, Any, ArgMax and
// ArgMin, 1 for Prod, NaN (float32) or 0 for Max and Min.
void Reduce(ReduceOp op, DType in, const void* x, const Shape& shape, const std::vector<int64_t>& axes,
            void* out);
// The scalar reference: tfjs's loops over the transposed input, one element at a time.
void ReduceRef(ReduceOp op, DType in, const void* x, const Shape& shape, const std::vector<int64_t>& axes,
               void* out);

// Softmax over the last axis of a [rows, cols] float32 array: max-subtract, exp, sum, divide,
// each step rounded to float32 as tfjs rounds it (exp is evaluated in double).
void Softmax(const float* logits, int64_t rows, int64_t cols, float* out);
void SoftmaxRef(const float* logits, int64_t rows, int64_t cols, float* out);

enum class ScanOp { kCumsum, kCumprod };
ScanOp ParseScanOp(const std::string& name);

// Cumulative sum or product along `axis` (in [0, rank)); output dtype int32 for int32 and
// bool inputs, float32 for float32. Each step is rounded to the output dtype, as tfjs does by
// reading the previous output back from its typed array.
void Scan(ScanOp op, DType in, const void* x, const Shape& shape, int64_t axis, bool exclusive, bool reverse,
          void* out);
void ScanRef(ScanOp op, DType in, const void* x, const Shape& shape, int64_t axis, bool exclusive,
             bool reverse, void* out);

// The k largest entries along the last axis of a [rows, cols] array, with their int32
// indices, ordered and tie-broken exactly as tfjs-backend-cpu's topKImpl (Floyd-Rivest
// selection, then when `sorted` a stable sort by value descending, index ascending).
void TopK(DType in, const void* x, int64_t rows, int64_t cols, int64_t k, bool sorted, void* values,
          int32_t* indices);
void TopKRef(DType in, const void* x, int64_t rows, int64_t cols, int64_t k, bool sorted, void* values,
             int32_t* indices);

}  // namespace tessera
