// The CUDA kernels from JS (kernels/cuda): every argument is checked (buffers, dtypes,
// element counts against shapes, one device for all buffers) before anything is enqueued;
// outputs are buffers the caller allocated. The launch planners are exported too: they are
// pure host logic, so tests check them on machines without a GPU.
#include <napi.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#ifdef TESSERA_WITH_CUDA
#include "bindings/cuda_convert.h"
#include "cuda/batchnorm.cuh"
#include "cuda/conv2d.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/gather.cuh"
#include "cuda/lab.cuh"
#include "cuda/pool.cuh"
#include "cuda/reduce.cuh"
#include "cuda/sgemm.cuh"
#include "cuda/softmax.cuh"
#include "cuda/transpose.cuh"
#endif

namespace tessera {
namespace {

#ifdef TESSERA_WITH_CUDA

// A device allocation that lives until the end of the enqueuing call: reuse by later work
// on the same stream is ordered after the kernels that read it.
class Workspace {
 public:
  Workspace(CudaDevice& device, size_t bytes, const char* op) : device_(device) {
    ptr_ = bytes > 0 ? device.Allocate(bytes, std::string(op) + " workspace") : nullptr;
  }
  ~Workspace() { device_.Free(ptr_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }

 private:
  CudaDevice& device_;
  void* ptr_;
};

int SmCount(const CudaDevice& d) { return d.props().multiProcessorCount; }

Napi::Array Dims(Napi::Env env, const dim3& d) {
  Napi::Array a = Napi::Array::New(env, 3);
  a.Set(0u, d.x);
  a.Set(1u, d.y);
  a.Set(2u, d.z);
  return a;
}

Napi::Array IntArray(Napi::Env env, const std::vector<int64_t>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), static_cast<double>(v[i]));
  return a;
}

CudaActivation GetActivation(const Napi::CallbackInfo& info, size_t index, const char* op) {
  const std::string name = GetString(info, index, op, "activation");
  CudaActivation act;
  if (!ParseCudaActivation(name, &act)) {
    ThrowArgError(op, "activation", "one of linear, relu, relu6, leakyrelu, elu, sigmoid", "'" + name + "'");
  }
  return act;
}

GemmPrecision GetPrecision(const Napi::CallbackInfo& info, size_t index, const char* op) {
  const std::string p = GetString(info, index, op, "precision");
  if (p == "fp32") return GemmPrecision::kFp32;
  if (p == "tf32") return GemmPrecision::kTf32;
  if (p == "bf16") return GemmPrecision::kBf16;
  ThrowArgError(op, "precision", "'fp32', 'tf32' or 'bf16'", "'" + p + "'");
}

void CheckRank(const Shape& s, size_t rank, const char* op, const char* arg) {
  if (s.size() != rank) ThrowArgError(op, arg, "a shape of rank " + std::to_string(rank), ShapeToString(s));
}

// ---- SGEMM ----

// matMul(a, b, out, batch, m, n, k, transA, transB, aBatchStride, bBatchStride, bias, activation, leakyAlpha, precision)
SgemmArgs ReadSgemmArgs(const Napi::CallbackInfo& info, const char* op) {
  SgemmArgs args;
  args.batch = GetInt(info, 3, op, "batch");
  args.m = GetInt(info, 4, op, "m");
  args.n = GetInt(info, 5, op, "n");
  args.k = GetInt(info, 6, op, "k");
  if (args.batch < 0 || args.m < 0 || args.n < 0 || args.k < 0) {
    ThrowArgError(op, "batch, m, n, k", "non-negative sizes",
                  std::to_string(args.batch) + ", " + std::to_string(args.m) + ", " + std::to_string(args.n) + ", " +
                      std::to_string(args.k));
  }
  args.trans_a = GetBool(info, 7, op, "transA");
  args.trans_b = GetBool(info, 8, op, "transB");
  args.a_batch_stride = GetInt(info, 9, op, "aBatchStride");
  args.b_batch_stride = GetInt(info, 10, op, "bBatchStride");
  if (args.a_batch_stride != 0 && args.a_batch_stride != args.m * args.k) {
    ThrowArgError(op, "aBatchStride", "0 or m * k = " + std::to_string(args.m * args.k), std::to_string(args.a_batch_stride));
  }
  if (args.b_batch_stride != 0 && args.b_batch_stride != args.k * args.n) {
    ThrowArgError(op, "bBatchStride", "0 or k * n = " + std::to_string(args.k * args.n), std::to_string(args.b_batch_stride));
  }
  args.activation = GetActivation(info, 12, op);
  args.leaky_alpha = static_cast<float>(GetNumber(info, 13, op, "leakyAlpha"));
  args.precision = GetPrecision(info, 14, op);
  return args;
}

Napi::Value MatMul(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaMatMul";
    CudaBufferHandle& a = GetCudaBuffer(info, 0, op, "a");
    CudaBufferHandle& b = GetCudaBuffer(info, 1, op, "b");
    CudaBufferHandle& out = GetCudaBuffer(info, 2, op, "out");
    SgemmArgs args = ReadSgemmArgs(info, op);
    CudaBufferHandle* bias = GetOptionalCudaBuffer(info, 11, op, "bias");
    const int64_t a_batches = args.a_batch_stride == 0 ? 1 : args.batch;
    const int64_t b_batches = args.b_batch_stride == 0 ? 1 : args.batch;
    CheckCudaBuffer(a, DType::kFloat32, a_batches * args.m * args.k, op, "a");
    CheckCudaBuffer(b, DType::kFloat32, b_batches * args.k * args.n, op, "b");
    CheckCudaBuffer(out, DType::kFloat32, args.batch * args.m * args.n, op, "out");
    if (bias != nullptr) CheckCudaBuffer(*bias, DType::kFloat32, args.n, op, "bias");
    CudaDevice& d = CommonDevice(op, {{"a", &a}, {"b", &b}, {"out", &out}, {"bias", bias}});
    args.a = a.as_float();
    args.b = b.as_float();
    args.c = out.as_float();
    args.bias = bias == nullptr ? nullptr : bias->as_float();
    SgemmCuda(args, SmCount(d), d.stream());
    return info.Env().Undefined();
  });
}

// planSgemm(batch, m, n, k, transA, transB, precision, smCount)
Napi::Value PlanSgemmJs(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaPlanSgemm";
    SgemmArgs args;
    args.batch = GetInt(info, 0, op, "batch");
    args.m = GetInt(info, 1, op, "m");
    args.n = GetInt(info, 2, op, "n");
    args.k = GetInt(info, 3, op, "k");
    args.trans_a = GetBool(info, 4, op, "transA");
    args.trans_b = GetBool(info, 5, op, "transB");
    args.precision = GetPrecision(info, 6, op);
    const int64_t sms = GetInt(info, 7, op, "smCount");
    if (sms < 1 || sms > INT_MAX) ThrowArgError(op, "smCount", "a positive count", std::to_string(sms));
    // Tight batches: each entry right after the last (aligned like cudaMalloc'd memory).
    args.a_batch_stride = args.m * args.k;
    args.b_batch_stride = args.k * args.n;
    const GemmLaunch plan = PlanSgemm(args, static_cast<int>(sms));
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("kernel", plan.kernel);
    o.Set("grid", Dims(info.Env(), plan.grid));
    o.Set("block", Dims(info.Env(), plan.block));
    o.Set("vectorA", plan.vector_a);
    o.Set("vectorB", plan.vector_b);
    o.Set("vectorC", plan.vector_c);
    o.Set("batchChunks", static_cast<double>(plan.batch_chunks));
    return o;
  });
}

// ---- convolutions ----

// geometry = [strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW], as the CPU binding takes it.
CudaConv2DGeometry ReadConvGeometry(const Shape& x_shape, const Shape& filter_shape, const std::vector<int64_t>& geometry,
                                    const char* op) {
  CheckRank(x_shape, 4, op, "xShape");
  CheckRank(filter_shape, 4, op, "filterShape");
  if (geometry.size() != 8) {
    ThrowArgError(op, "geometry", "8 integers [strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW]",
                  std::to_string(geometry.size()) + " values");
  }
  if (filter_shape[2] != x_shape[3]) {
    ThrowArgError(op, "filterShape", "input channels " + std::to_string(x_shape[3]) + " (x's last dimension)",
                  ShapeToString(filter_shape));
  }
  CudaConv2DGeometry g{};
  g.batch = x_shape[0], g.in_height = x_shape[1], g.in_width = x_shape[2], g.in_channels = x_shape[3];
  g.filter_height = filter_shape[0], g.filter_width = filter_shape[1], g.out_channels = filter_shape[3];
  g.stride_height = geometry[0], g.stride_width = geometry[1];
  g.dilation_height = geometry[2], g.dilation_width = geometry[3];
  g.pad_top = geometry[4], g.pad_left = geometry[5];
  g.out_height = geometry[6], g.out_width = geometry[7];
  if (g.stride_height < 1 || g.stride_width < 1 || g.dilation_height < 1 || g.dilation_width < 1) {
    ThrowArgError(op, "geometry", "strides and dilations of at least 1", "[" + std::to_string(g.stride_height) + ", " +
                  std::to_string(g.stride_width) + ", " + std::to_string(g.dilation_height) + ", " + std::to_string(g.dilation_width) + ", ...]");
  }
  if (g.out_height < 0 || g.out_width < 0) ThrowArgError(op, "geometry", "a non-negative output size", "a negative one");
  return g;
}

Shape OutShape(const CudaConv2DGeometry& g) { return {g.batch, g.out_height, g.out_width, g.out_channels}; }

// conv2d(x, xShape, filter, filterShape, y, geometry, bias, activation, leakyAlpha)
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaConv2d";
    CudaBufferHandle& x = GetCudaBuffer(info, 0, op, "x");
    const Shape x_shape = GetShape(info, 1, op, "xShape");
    CudaBufferHandle& w = GetCudaBuffer(info, 2, op, "filter");
    const Shape w_shape = GetShape(info, 3, op, "filterShape");
    CudaBufferHandle& y = GetCudaBuffer(info, 4, op, "y");
    const CudaConv2DGeometry g = ReadConvGeometry(x_shape, w_shape, GetIntArray(info, 5, op, "geometry"), op);
    CudaBufferHandle* bias = GetOptionalCudaBuffer(info, 6, op, "bias");
    const CudaActivation act = GetActivation(info, 7, op);
    const float leaky = static_cast<float>(GetNumber(info, 8, op, "leakyAlpha"));
    CheckCudaBuffer(x, DType::kFloat32, ShapeSize(x_shape), op, "x");
    CheckCudaBuffer(w, DType::kFloat32, ShapeSize(w_shape), op, "filter");
    CheckCudaBuffer(y, DType::kFloat32, ShapeSize(OutShape(g)), op, "y");
    if (bias != nullptr) CheckCudaBuffer(*bias, DType::kFloat32, g.out_channels, op, "bias");
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"filter", &w}, {"y", &y}, {"bias", bias}});
    Conv2DCuda(g, x.as_float(), w.as_float(), bias == nullptr ? nullptr : bias->as_float(), act, leaky, y.as_float(),
               SmCount(d), d.stream());
    return info.Env().Undefined();
  });
}

// conv2dBackpropInput(dy, dyShape, filter, filterShape, dx, dxShape, geometry)
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaConv2dBackpropInput";
    CudaBufferHandle& dy = GetCudaBuffer(info, 0, op, "dy");
    const Shape dy_shape = GetShape(info, 1, op, "dyShape");
    CudaBufferHandle& w = GetCudaBuffer(info, 2, op, "filter");
    const Shape w_shape = GetShape(info, 3, op, "filterShape");
    CudaBufferHandle& dx = GetCudaBuffer(info, 4, op, "dx");
    const Shape dx_shape = GetShape(info, 5, op, "dxShape");
    const CudaConv2DGeometry g = ReadConvGeometry(dx_shape, w_shape, GetIntArray(info, 6, op, "geometry"), op);
    if (dy_shape != OutShape(g)) ThrowArgError(op, "dyShape", ShapeToString(OutShape(g)), ShapeToString(dy_shape));
    CheckCudaBuffer(dy, DType::kFloat32, ShapeSize(dy_shape), op, "dy");
    CheckCudaBuffer(w, DType::kFloat32, ShapeSize(w_shape), op, "filter");
    CheckCudaBuffer(dx, DType::kFloat32, ShapeSize(dx_shape), op, "dx");
    CudaDevice& d = CommonDevice(op, {{"dy", &dy}, {"filter", &w}, {"dx", &dx}});
    Conv2DBackpropInputCuda(g, dy.as_float(), w.as_float(), dx.as_float(), SmCount(d), d.stream());
    return info.Env().Undefined();
  });
}

// conv2dBackpropFilter(x, xShape, dy, dyShape, dfilter, filterShape, geometry)
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaConv2dBackpropFilter";
    CudaBufferHandle& x = GetCudaBuffer(info, 0, op, "x");
    const Shape x_shape = GetShape(info, 1, op, "xShape");
    CudaBufferHandle& dy = GetCudaBuffer(info, 2, op, "dy");
    const Shape dy_shape = GetShape(info, 3, op, "dyShape");
    CudaBufferHandle& dw = GetCudaBuffer(info, 4, op, "dfilter");
    const Shape w_shape = GetShape(info, 5, op, "filterShape");
    const CudaConv2DGeometry g = ReadConvGeometry(x_shape, w_shape, GetIntArray(info, 6, op, "geometry"), op);
    if (dy_shape != OutShape(g)) ThrowArgError(op, "dyShape", ShapeToString(OutShape(g)), ShapeToString(dy_shape));
    CheckCudaBuffer(x, DType::kFloat32, ShapeSize(x_shape), op, "x");
    CheckCudaBuffer(dy, DType::kFloat32, ShapeSize(dy_shape), op, "dy");
    CheckCudaBuffer(dw, DType::kFloat32, ShapeSize(w_shape), op, "dfilter");
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"dy", &dy}, {"dfilter", &dw}});
    const ConvLaunch plan = PlanConv2D(ConvPass::kFilter, g, SmCount(d));
    Workspace ws(d, plan.workspace_floats * sizeof(float), op);
    Conv2DBackpropFilterCuda(g, x.as_float(), dy.as_float(), dw.as_float(), static_cast<float*>(ws.get()), SmCount(d),
                             d.stream());
    return info.Env().Undefined();
  });
}

// planConv2d(pass, xShape, filterShape, geometry, smCount)
Napi::Value PlanConv2DJs(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaPlanConv2d";
    const std::string pass_name = GetString(info, 0, op, "pass");
    ConvPass pass;
    if (pass_name == "forward") pass = ConvPass::kForward;
    else if (pass_name == "input") pass = ConvPass::kInput;
    else if (pass_name == "filter") pass = ConvPass::kFilter;
    else ThrowArgError(op, "pass", "'forward', 'input' or 'filter'", "'" + pass_name + "'");
    const CudaConv2DGeometry g = ReadConvGeometry(GetShape(info, 1, op, "xShape"), GetShape(info, 2, op, "filterShape"),
                                                  GetIntArray(info, 3, op, "geometry"), op);
    const int64_t sms = GetInt(info, 4, op, "smCount");
    if (sms < 1 || sms > INT_MAX) ThrowArgError(op, "smCount", "a positive count", std::to_string(sms));
    const ConvLaunch plan = PlanConv2D(pass, g, static_cast<int>(sms));
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("m", static_cast<double>(plan.m));
    o.Set("n", static_cast<double>(plan.n));
    o.Set("k", static_cast<double>(plan.k));
    o.Set("grid", Dims(info.Env(), plan.grid));
    o.Set("block", Dims(info.Env(), plan.block));
    o.Set("kPerSplit", static_cast<double>(plan.k_per_split));
    o.Set("workspaceFloats", static_cast<double>(plan.workspace_floats));
    return o;
  });
}

// ---- elementwise ----

// binary(op, a, aShape, b, bShape, out)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaBinary";
    const BinaryOp kind = ParseBinaryOp(GetString(info, 0, op, "op"));
    CudaBufferHandle& a = GetCudaBuffer(info, 1, op, "a");
    const Shape a_shape = GetShape(info, 2, op, "aShape");
    CudaBufferHandle& b = GetCudaBuffer(info, 3, op, "b");
    const Shape b_shape = GetShape(info, 4, op, "bShape");
    CudaBufferHandle& out = GetCudaBuffer(info, 5, op, "out");
    if (!CudaBinarySupports(kind, a.dtype)) {
      ThrowArgError(op, "a", "a dtype the CUDA kernel takes for " + GetString(info, 0, op, "op"), DTypeName(a.dtype));
    }
    CheckCudaBuffer(a, a.dtype, ShapeSize(a_shape), op, "a");
    CheckCudaBuffer(b, a.dtype, ShapeSize(b_shape), op, "b");
    const Shape out_shape = BroadcastShapes(a_shape, b_shape, op);
    CheckCudaBuffer(out, BinaryOpReturnsBool(kind) ? DType::kBool : a.dtype, ShapeSize(out_shape), op, "out");
    CudaDevice& d = CommonDevice(op, {{"a", &a}, {"b", &b}, {"out", &out}});
    BinaryCuda(kind, a.dtype, a.ptr, a_shape, b.ptr, b_shape, out.ptr, out_shape, d.stream());
    return info.Env().Undefined();
  });
}

// unary(op, x, out, attr0, attr1)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaUnary";
    const std::string name = GetString(info, 0, op, "op");
    const UnaryOp kind = ParseUnaryOp(name);
    if (!CudaUnarySupports(kind)) ThrowArgError(op, "op", "a unary op with a CUDA kernel", "'" + name + "'");
    CudaBufferHandle& x = GetCudaBuffer(info, 1, op, "x");
    CudaBufferHandle& out = GetCudaBuffer(info, 2, op, "out");
    CheckCudaBuffer(x, DType::kFloat32, x.length, op, "x");
    CheckCudaBuffer(out, DType::kFloat32, x.length, op, "out");
    UnaryAttrs attrs;
    if (info.Length() > 3 && !info[3].IsUndefined()) {
      attrs.alpha = attrs.clip_min = GetNumber(info, 3, op, "attr0");
    }
    if (info.Length() > 4 && !info[4].IsUndefined()) attrs.clip_max = GetNumber(info, 4, op, "attr1");
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"out", &out}});
    UnaryCuda(kind, x.as_float(), out.as_float(), x.length, attrs, d.stream());
    return info.Env().Undefined();
  });
}

// batchNorm(x, mean, variance, offset, scale, epsilon, out)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaBatchNorm";
    CudaBufferHandle& x = GetCudaBuffer(info, 0, op, "x");
    CudaBufferHandle& mean = GetCudaBuffer(info, 1, op, "mean");
    CudaBufferHandle& variance = GetCudaBuffer(info, 2, op, "variance");
    CudaBufferHandle* offset = GetOptionalCudaBuffer(info, 3, op, "offset");
    CudaBufferHandle* scale = GetOptionalCudaBuffer(info, 4, op, "scale");
    const double epsilon = GetNumber(info, 5, op, "epsilon");
    CudaBufferHandle& out = GetCudaBuffer(info, 6, op, "out");
    CheckCudaBuffer(x, DType::kFloat32, x.length, op, "x");
    CheckCudaBuffer(out, DType::kFloat32, x.length, op, "out");
    const std::pair<const char*, CudaBufferHandle*> params[] = {{"mean", &mean}, {"variance", &variance}, {"offset", offset}, {"scale", scale}};
    for (const auto& [name, p] : params) {
      if (p == nullptr) continue;
      CheckCudaBuffer(*p, DType::kFloat32, p->length, op, name);
      if (p->length < 1) ThrowArgError(op, name, "at least one element", "0");
    }
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"mean", &mean}, {"variance", &variance}, {"offset", offset}, {"scale", scale}, {"out", &out}});
    auto param = [](CudaBufferHandle* p) {
      return p == nullptr ? CudaBatchNormParam{nullptr, 0} : CudaBatchNormParam{p->as_float(), p->length};
    };
    BatchNormCuda(x.as_float(), x.length, param(&mean), param(&variance), param(offset), param(scale), epsilon,
                  out.as_float(), d.stream());
    return info.Env().Undefined();
  });
}

// ---- reductions, softmax ----

// reduce(op, x, shape, axes, out)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaReduce";
    const std::string name = GetString(info, 0, op, "op");
    const ReduceOp kind = ParseReduceOp(name);
    CudaBufferHandle& x = GetCudaBuffer(info, 1, op, "x");
    const Shape shape = GetShape(info, 2, op, "shape");
    const std::vector<int64_t> axes = GetIntArray(info, 3, op, "axes");
    CudaBufferHandle& out = GetCudaBuffer(info, 4, op, "out");
    if (!CudaReduceSupports(kind, x.dtype)) {
      ThrowArgError(op, "x", "a dtype the CUDA kernel takes for " + name, DTypeName(x.dtype));
    }
    CheckCudaBuffer(x, x.dtype, ShapeSize(shape), op, "x");
    const ReduceLaunch plan = PlanReduceCuda(x.dtype, shape, axes);
    CheckCudaBuffer(out, ReduceOutputDType(kind, x.dtype), plan.rows, op, "out");
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"out", &out}});
    Workspace ws(d, plan.workspace_bytes, op);
    ReduceCuda(kind, x.dtype, x.ptr, shape, axes, out.ptr, ws.get(), d.stream());
    return info.Env().Undefined();
  });
}

Napi::Value PlanReduceJs(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaPlanReduce";
    const DType dtype = ParseDType(GetString(info, 0, op, "dtype"), op, "dtype");
    const ReduceLaunch plan = PlanReduceCuda(dtype, GetShape(info, 1, op, "shape"), GetIntArray(info, 2, op, "axes"));
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("perm", IntArray(info.Env(), plan.perm));
    o.Set("rows", static_cast<double>(plan.rows));
    o.Set("cols", static_cast<double>(plan.cols));
    o.Set("warpPerRow", plan.warp_per_row);
    o.Set("workspaceBytes", static_cast<double>(plan.workspace_bytes));
    return o;
  });
}

// softmax(logits, shape, out): over the last axis
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaSoftmax";
    CudaBufferHandle& x = GetCudaBuffer(info, 0, op, "logits");
    const Shape shape = GetShape(info, 1, op, "shape");
    CudaBufferHandle& out = GetCudaBuffer(info, 2, op, "out");
    if (shape.empty()) ThrowArgError(op, "shape", "a shape of rank >= 1", "[]");
    CheckCudaBuffer(x, DType::kFloat32, ShapeSize(shape), op, "logits");
    CheckCudaBuffer(out, DType::kFloat32, ShapeSize(shape), op, "out");
    CudaDevice& d = CommonDevice(op, {{"logits", &x}, {"out", &out}});
    const int64_t cols = shape.back();
    SoftmaxCuda(x.as_float(), cols == 0 ? 0 : ShapeSize(shape) / cols, cols, out.as_float(), d.stream());
    return info.Env().Undefined();
  });
}

// ---- layout ----

// transpose(x, shape, perm, out)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaTranspose";
    CudaBufferHandle& x = GetCudaBuffer(info, 0, op, "x");
    const Shape shape = GetShape(info, 1, op, "shape");
    const std::vector<int64_t> perm = GetIntArray(info, 2, op, "perm");
    CudaBufferHandle& out = GetCudaBuffer(info, 3, op, "out");
    CheckCudaBuffer(x, x.dtype, ShapeSize(shape), op, "x");
    CheckCudaBuffer(out, x.dtype, ShapeSize(shape), op, "out");
    PlanTransposeCuda(shape, perm);  // validates perm before anything is enqueued
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"out", &out}});
    TransposeCuda(x.dtype, x.ptr, shape, perm, out.ptr, d.stream());
    return info.Env().Undefined();
  });
}

Napi::Value PlanTransposeJs(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaPlanTranspose";
    const TransposeLaunch plan = PlanTransposeCuda(GetShape(info, 0, op, "shape"), GetIntArray(info, 1, op, "perm"));
    static const char* kinds[] = {"copy", "tiled", "general"};
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("kind", kinds[static_cast<int>(plan.kind)]);
    o.Set("shape", IntArray(info.Env(), plan.shape));
    o.Set("perm", IntArray(info.Env(), plan.perm));
    return o;
  });
}

// gather(x, xShape, indices, indicesShape, axis, batchDims, out)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaGather";
    CudaBufferHandle& x = GetCudaBuffer(info, 0, op, "x");
    const Shape x_shape = GetShape(info, 1, op, "xShape");
    CudaBufferHandle& indices = GetCudaBuffer(info, 2, op, "indices");
    const Shape i_shape = GetShape(info, 3, op, "indicesShape");
    const int64_t axis = GetInt(info, 4, op, "axis");
    const int64_t batch_dims = GetInt(info, 5, op, "batchDims");
    CudaBufferHandle& out = GetCudaBuffer(info, 6, op, "out");
    const int64_t rank = static_cast<int64_t>(x_shape.size());
    if (axis < 0 || axis >= rank) ThrowArgError(op, "axis", "an axis in [0, " + std::to_string(rank) + ")", std::to_string(axis));
    if (batch_dims < 0 || batch_dims > axis || batch_dims > static_cast<int64_t>(i_shape.size())) {
      ThrowArgError(op, "batchDims", "a count in [0, min(axis, rank of indices)]", std::to_string(batch_dims));
    }
    CudaGatherGeometry g{1, 1, x_shape[axis], 1, 1};
    for (int64_t d = 0; d < batch_dims; d++) {
      if (x_shape[d] != i_shape[d]) {
        ThrowArgError(op, "indicesShape", "batch dimensions equal to x's " + ShapeToString(x_shape), ShapeToString(i_shape));
      }
      g.batch *= x_shape[d];
    }
    for (int64_t d = batch_dims; d < axis; d++) g.outer *= x_shape[d];
    for (int64_t d = axis + 1; d < rank; d++) g.inner *= x_shape[d];
    for (size_t d = batch_dims; d < i_shape.size(); d++) g.count *= i_shape[d];
    CheckCudaBuffer(x, x.dtype, ShapeSize(x_shape), op, "x");
    CheckCudaBuffer(indices, DType::kInt32, ShapeSize(i_shape), op, "indices");
    CheckCudaBuffer(out, x.dtype, g.batch * g.outer * g.count * g.inner, op, "out");
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"indices", &indices}, {"out", &out}});
    GatherCuda(x.dtype, x.ptr, static_cast<const int32_t*>(indices.ptr), g, out.ptr, d.stream());
    return info.Env().Undefined();
  });
}

// ---- pooling ----

Pool2DGeometry ReadPoolGeometry(const Napi::CallbackInfo& info, size_t index, const char* op) {
  const std::vector<int64_t> v = GetIntArray(info, index, op, "geometry");
  if (v.size() != 12) {
    ThrowArgError(op, "geometry",
                  "12 integers [batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, "
                  "strideHeight, strideWidth, padTop, padLeft]",
                  std::to_string(v.size()) + " values");
  }
  Pool2DGeometry g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
  CheckPool2DGeometry(g, op);
  return g;
}

int64_t InSize(const Pool2DGeometry& g) { return g.batch * g.in_height * g.in_width * g.channels; }
int64_t OutSize(const Pool2DGeometry& g) { return g.batch * g.out_height * g.out_width * g.channels; }

// pool2d(type, x, geometry, out)
Napi::Value Pool2D(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaPool2d";
    const std::string type = GetString(info, 0, op, "type");
    if (type != "max" && type != "avg") ThrowArgError(op, "type", "'max' or 'avg'", "'" + type + "'");
    CudaBufferHandle& x = GetCudaBuffer(info, 1, op, "x");
    const Pool2DGeometry g = ReadPoolGeometry(info, 2, op);
    CudaBufferHandle& out = GetCudaBuffer(info, 3, op, "out");
    CheckCudaBuffer(x, DType::kFloat32, InSize(g), op, "x");
    CheckCudaBuffer(out, DType::kFloat32, OutSize(g), op, "out");
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"out", &out}});
    Pool2DCuda(type == "max" ? PoolType::kMax : PoolType::kAvg, x.as_float(), out.as_float(), g, d.stream());
    return info.Env().Undefined();
  });
}

// maxPoolGrad(dy, x, geometry, dx)
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaMaxPoolGrad";
    CudaBufferHandle& dy = GetCudaBuffer(info, 0, op, "dy");
    CudaBufferHandle& x = GetCudaBuffer(info, 1, op, "x");
    const Pool2DGeometry g = ReadPoolGeometry(info, 2, op);
    CudaBufferHandle& dx = GetCudaBuffer(info, 3, op, "dx");
    CheckCudaBuffer(dy, DType::kFloat32, OutSize(g), op, "dy");
    CheckCudaBuffer(x, DType::kFloat32, InSize(g), op, "x");
    CheckCudaBuffer(dx, DType::kFloat32, InSize(g), op, "dx");
    CudaDevice& d = CommonDevice(op, {{"dy", &dy}, {"x", &x}, {"dx", &dx}});
    Workspace ws(d, MaxPoolGradWorkspaceBytes(g), op);
    MaxPoolGradCuda(dy.as_float(), x.as_float(), dx.as_float(), ws.get(), g, d.stream());
    return info.Env().Undefined();
  });
}

// avgPoolGrad(dy, geometry, dx)
Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaAvgPoolGrad";
    CudaBufferHandle& dy = GetCudaBuffer(info, 0, op, "dy");
    const Pool2DGeometry g = ReadPoolGeometry(info, 1, op);
    CudaBufferHandle& dx = GetCudaBuffer(info, 2, op, "dx");
    CheckCudaBuffer(dy, DType::kFloat32, OutSize(g), op, "dy");
    CheckCudaBuffer(dx, DType::kFloat32, InSize(g), op, "dx");
    CudaDevice& d = CommonDevice(op, {{"dy", &dy}, {"dx", &dx}});
    AvgPoolGradCuda(dy.as_float(), dx.as_float(), g, d.stream());
    return info.Env().Undefined();
  });
}

// ---- the kernel lab ----

Napi::Value LabVariants(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array sgemm = Napi::Array::New(env, kSgemmLabVariants);
  for (int v = 1; v <= kSgemmLabVariants; v++) sgemm.Set(static_cast<uint32_t>(v - 1), SgemmLabName(v));
  Napi::Array conv = Napi::Array::New(env, kConvLabVariants);
  for (int v = 1; v <= kConvLabVariants; v++) conv.Set(static_cast<uint32_t>(v - 1), ConvLabName(v));
  o.Set("sgemm", sgemm);
  o.Set("conv", conv);
  return o;
}

// sgemmLab(variant, m, n, k, a, b, c)
Napi::Value SgemmLabJs(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaSgemmLab";
    const int64_t variant = GetInt(info, 0, op, "variant");
    const int64_t m = GetInt(info, 1, op, "m"), n = GetInt(info, 2, op, "n"), k = GetInt(info, 3, op, "k");
    if (m < 0 || n < 0 || k < 0) ThrowArgError(op, "m, n, k", "non-negative sizes", "a negative one");
    CudaBufferHandle& a = GetCudaBuffer(info, 4, op, "a");
    CudaBufferHandle& b = GetCudaBuffer(info, 5, op, "b");
    CudaBufferHandle& c = GetCudaBuffer(info, 6, op, "c");
    CheckCudaBuffer(a, DType::kFloat32, m * k, op, "a");
    CheckCudaBuffer(b, DType::kFloat32, k * n, op, "b");
    CheckCudaBuffer(c, DType::kFloat32, m * n, op, "c");
    CudaDevice& d = CommonDevice(op, {{"a", &a}, {"b", &b}, {"c", &c}});
    SgemmLab(static_cast<int>(variant), m, n, k, a.as_float(), b.as_float(), c.as_float(), SmCount(d), d.stream());
    return info.Env().Undefined();
  });
}

// convLab(variant, xShape, filterShape, geometry, x, filter, y)
Napi::Value ConvLabJs(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "cudaConvLab";
    const int64_t variant = GetInt(info, 0, op, "variant");
    const Shape x_shape = GetShape(info, 1, op, "xShape");
    const Shape w_shape = GetShape(info, 2, op, "filterShape");
    const CudaConv2DGeometry g = ReadConvGeometry(x_shape, w_shape, GetIntArray(info, 3, op, "geometry"), op);
    CudaBufferHandle& x = GetCudaBuffer(info, 4, op, "x");
    CudaBufferHandle& w = GetCudaBuffer(info, 5, op, "filter");
    CudaBufferHandle& y = GetCudaBuffer(info, 6, op, "y");
    CheckCudaBuffer(x, DType::kFloat32, ShapeSize(x_shape), op, "x");
    CheckCudaBuffer(w, DType::kFloat32, ShapeSize(w_shape), op, "filter");
    CheckCudaBuffer(y, DType::kFloat32, ShapeSize(OutShape(g)), op, "y");
    CudaDevice& d = CommonDevice(op, {{"x", &x}, {"filter", &w}, {"y", &y}});
    ConvLab(static_cast<int>(variant), g, x.as_float(), w.as_float(), y.as_float(), SmCount(d), d.stream());
    return info.Env().Undefined();
  });
}

#endif

}  // namespace

void RegisterCudaKernels(Napi::Env env, Napi::Object exports) {
#ifdef TESSERA_WITH_CUDA
  const std::pair<const char*, Napi::Function::Callback> functions[] = {
      {"cudaMatMul", MatMul},
      {"cudaPlanSgemm", PlanSgemmJs},
      {"cudaConv2d", Conv2D},
      {"cudaConv2dBackpropInput", Conv2DBackpropInput},
      {"cudaConv2dBackpropFilter", Conv2DBackpropFilter},
      {"cudaPlanConv2d", PlanConv2DJs},
      {"cudaBinary", Binary},
      {"cudaUnary", Unary},
      {"cudaBatchNorm", BatchNorm},
      {"cudaReduce", Reduce},
      {"cudaPlanReduce", PlanReduceJs},
      {"cudaSoftmax", Softmax},
      {"cudaTranspose", Transpose},
      {"cudaPlanTranspose", PlanTransposeJs},
      {"cudaGather", Gather},
      {"cudaPool2d", Pool2D},
      {"cudaMaxPoolGrad", MaxPoolGrad},
      {"cudaAvgPoolGrad", AvgPoolGrad},
      {"cudaLabVariants", LabVariants},
      {"cudaSgemmLab", SgemmLabJs},
      {"cudaConvLab", ConvLabJs},
  };
  for (const auto& [name, fn] : functions) exports.Set(name, Napi::Function::New(env, fn, name));
#else
  (void)env;
  (void)exports;
#endif
}

}  // namespace tessera
