// Reductions, softmax, cumulative ops and top-k. Outputs are allocated by the caller.
#include <napi.h>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/reduce.h"

namespace tessera {
namespace {

// reduce(op, x, shape, axes, out): axes distinct and non-negative (the TS layer normalizes).
template <bool Reference>
Napi::Value ReduceBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* fn = Reference ? "reduceRef" : "reduce";
    const std::string name = GetString(info, 0, fn, "op");
    const ReduceOp op = ParseReduceOp(name);
    const char* op_c = name.c_str();
    TensorArg x = GetTensor(info, 1, op_c, "x");
    Shape shape = GetShape(info, 2, op_c, "x.shape");
    std::vector<int64_t> axes = GetIntArray(info, 3, op_c, "axes");
    TensorArg out = GetTensor(info, 4, op_c, "out");
    CheckTensorShape(x, shape, op_c, "x");
    if (!ReduceAcceptsDType(op, x.dtype)) ThrowArgError(name, "x", "dtype bool", DTypeName(x.dtype));
    std::vector<bool> seen(shape.size(), false);
    Shape out_shape;
    for (int64_t a : axes) {
      if (a < 0 || a >= static_cast<int64_t>(shape.size()) || seen[a]) {
        ThrowArgError(name, "axes", "distinct axes in [0, " + std::to_string(shape.size()) + ")",
                      "axis " + std::to_string(a));
      }
      seen[a] = true;
    }
    if ((op == ReduceOp::kArgMax || op == ReduceOp::kArgMin) && axes.size() != 1) {
      ThrowArgError(name, "axes", "exactly one axis", std::to_string(axes.size()) + " axes");
    }
    for (size_t d = 0; d < shape.size(); d++) {
      if (!seen[d]) out_shape.push_back(shape[d]);
    }
    CheckTensorShape(out, out_shape, op_c, "out");
    CheckDType(out, ReduceOutputDType(op, x.dtype), op_c, "out");
    if (Reference) {
      ReduceRef(op, x.dtype, x.data, shape, axes, out.data);
    } else {
      Reduce(op, x.dtype, x.data, shape, axes, out.data);
    }
    return info.Env().Undefined();
  });
}

// softmax(logits, shape, out): over the last axis.
template <bool Reference>
Napi::Value SoftmaxBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "softmaxRef" : "softmax";
    TensorArg x = GetTensor(info, 0, op, "logits");
    Shape shape = GetShape(info, 1, op, "logits.shape");
    TensorArg out = GetTensor(info, 2, op, "out");
    CheckTensorShape(x, shape, op, "logits");
    CheckDType(x, DType::kFloat32, op, "logits");
    if (shape.empty()) ThrowArgError(op, "logits", "rank 1 or more", "a scalar");
    CheckTensorShape(out, shape, op, "out");
    CheckDType(out, DType::kFloat32, op, "out");
    const int64_t cols = shape.back();
    const int64_t rows = cols == 0 ? 0 : x.length / cols;
    if (Reference) {
      SoftmaxRef(x.as<float>(), rows, cols, out.as<float>());
    } else {
      Softmax(x.as<float>(), rows, cols, out.as<float>());
    }
    return info.Env().Undefined();
  });
}

// scan(op, x, shape, axis, exclusive, reverse, out): Cumsum or Cumprod.
template <bool Reference>
Napi::Value ScanBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* fn = Reference ? "scanRef" : "scan";
    const std::string name = GetString(info, 0, fn, "op");
    const ScanOp op = ParseScanOp(name);
    const char* op_c = name.c_str();
    TensorArg x = GetTensor(info, 1, op_c, "x");
    Shape shape = GetShape(info, 2, op_c, "x.shape");
    const int64_t axis = GetInt(info, 3, op_c, "axis");
    const bool exclusive = GetBool(info, 4, op_c, "exclusive");
    const bool reverse = GetBool(info, 5, op_c, "reverse");
    TensorArg out = GetTensor(info, 6, op_c, "out");
    CheckTensorShape(x, shape, op_c, "x");
    if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) {
      ThrowArgError(name, "axis", "an integer in [0, " + std::to_string(shape.size()) + ")", std::to_string(axis));
    }
    CheckTensorShape(out, shape, op_c, "out");
    CheckDType(out, x.dtype == DType::kFloat32 ? DType::kFloat32 : DType::kInt32, op_c, "out");
    if (Reference) {
      ScanRef(op, x.dtype, x.data, shape, axis, exclusive, reverse, out.data);
    } else {
      Scan(op, x.dtype, x.data, shape, axis, exclusive, reverse, out.data);
    }
    return info.Env().Undefined();
  });
}

// topK(x, shape, k, sorted, values, indices): along the last axis.
template <bool Reference>
Napi::Value TopKBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "topKRef" : "topK";
    TensorArg x = GetTensor(info, 0, op, "x");
    Shape shape = GetShape(info, 1, op, "x.shape");
    const int64_t k = GetInt(info, 2, op, "k");
    const bool sorted = GetBool(info, 3, op, "sorted");
    TensorArg values = GetTensor(info, 4, op, "values");
    TensorArg indices = GetTensor(info, 5, op, "indices");
    CheckTensorShape(x, shape, op, "x");
    if (shape.empty()) ThrowArgError(op, "x", "rank 1 or more", "a scalar");
    const int64_t cols = shape.back();
    if (k < 0 || k > cols) ThrowArgError(op, "k", "an integer in [0, " + std::to_string(cols) + "]", std::to_string(k));
    Shape out_shape = shape;
    out_shape.back() = k;
    CheckTensorShape(values, out_shape, op, "values");
    CheckDType(values, x.dtype, op, "values");
    CheckTensorShape(indices, out_shape, op, "indices");
    CheckDType(indices, DType::kInt32, op, "indices");
    const int64_t rows = cols == 0 ? ShapeSize(Shape(shape.begin(), shape.end() - 1)) : x.length / cols;
    if (Reference) {
      TopKRef(x.dtype, x.data, rows, cols, k, sorted, values.data, indices.as<int32_t>());
    } else {
      TopK(x.dtype, x.data, rows, cols, k, sorted, values.data, indices.as<int32_t>());
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, ReduceBinding<false>, "reduce"));
  exports.Set("reduceRef", Napi::Function::New(env, ReduceBinding<true>, "reduceRef"));
  exports.Set("softmax", Napi::Function::New(env, SoftmaxBinding<false>, "softmax"));
  exports.Set("softmaxRef", Napi::Function::New(env, SoftmaxBinding<true>, "softmaxRef"));
  exports.Set("scan", Napi::Function::New(env, ScanBinding<false>, "scan"));
  exports.Set("scanRef", Napi::Function::New(env, ScanBinding<true>, "scanRef"));
  exports.Set("topK", Napi::Function::New(env, TopKBinding<false>, "topK"));
  exports.Set("topKRef", Napi::Function::New(env, TopKBinding<true>, "topKRef"));
}

}  // namespace tessera
