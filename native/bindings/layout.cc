// Data-movement kernels: transpose, slices, pads, tile, reverse, concat/split, gathers, oneHot.
// Each is exported twice: `<name>` (optimized) and `<name>Ref` (the scalar test oracle).
#include <napi.h>

#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/layout.h"

namespace tessera {
namespace {

ConstBuffer In(const TensorArg& t) { return ConstBuffer{t.data, t.length}; }
MutBuffer Out(const TensorArg& t) { return MutBuffer{t.data, t.length}; }

// The elements of a JS array argument, each checked to be an array.
Napi::Array GetArray(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Napi::Value v = index < info.Length() ? info[index] : info.Env().Undefined();
  if (!v.IsArray()) ThrowArgError(op, arg, "an array", v.IsTypedArray() ? "a typed array" : "another value");
  return v.As<Napi::Array>();
}

TensorArg TensorAt(const Napi::Array& a, uint32_t i, const char* op, const std::string& arg) {
  return ToTensor(a.Get(i), op, arg);
}

Shape ShapeAt(const Napi::Array& a, uint32_t i, const char* op, const std::string& arg) {
  return ToShape(a.Get(i), op, arg);
}

// (x, xShape, ..., out) kernels whose output has x's dtype.
struct Unary {
  TensorArg x;
  Shape x_shape;
};

Unary GetUnary(const Napi::CallbackInfo& info, const char* op) {
  Unary u{GetTensor(info, 0, op, "x"), GetShape(info, 1, op, "x.shape")};
  CheckTensorShape(u.x, u.x_shape, op, "x");
  return u;
}

TensorArg GetOut(const Napi::CallbackInfo& info, size_t index, const char* op, const TensorArg& like) {
  TensorArg out = GetTensor(info, index, op, "out");
  CheckSameDType(like, out, op, "out");
  return out;
}

TensorArg GetIndices(const Napi::CallbackInfo& info, size_t index, const char* op, const Shape& shape) {
  TensorArg indices = GetTensor(info, index, op, "indices");
  CheckDType(indices, DType::kInt32, op, "indices");
  CheckTensorShape(indices, shape, op, "indices");
  return indices;
}

template <bool Reference>
Napi::Value TransposeBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "transposeRef" : "transpose";
    Unary u = GetUnary(info, op);
    std::vector<int64_t> perm = GetIntArray(info, 2, op, "perm");
    TensorArg out = GetOut(info, 3, op, u.x);
    (Reference ? TransposeRef : Transpose)(u.x.dtype, In(u.x), u.x_shape, perm, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value StridedSliceBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "stridedSliceRef" : "stridedSlice";
    Unary u = GetUnary(info, op);
    std::vector<int64_t> begin = GetIntArray(info, 2, op, "begin");
    std::vector<int64_t> strides = GetIntArray(info, 3, op, "strides");
    Shape size = GetShape(info, 4, op, "size");
    TensorArg out = GetOut(info, 5, op, u.x);
    (Reference ? StridedSliceRef : StridedSlice)(u.x.dtype, In(u.x), u.x_shape, begin, strides, size, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value ReverseBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "reverseRef" : "reverse";
    Unary u = GetUnary(info, op);
    std::vector<int64_t> axes = GetIntArray(info, 2, op, "axes");
    TensorArg out = GetOut(info, 3, op, u.x);
    (Reference ? ReverseRef : Reverse)(u.x.dtype, In(u.x), u.x_shape, axes, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value TileBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "tileRef" : "tile";
    Unary u = GetUnary(info, op);
    std::vector<int64_t> reps = GetIntArray(info, 2, op, "reps");
    TensorArg out = GetOut(info, 3, op, u.x);
    (Reference ? TileRef : Tile)(u.x.dtype, In(u.x), u.x_shape, reps, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value PadBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "padRef" : "pad";
    Unary u = GetUnary(info, op);
    std::vector<int64_t> before = GetIntArray(info, 2, op, "before");
    std::vector<int64_t> after = GetIntArray(info, 3, op, "after");
    double value = GetNumber(info, 4, op, "value");
    TensorArg out = GetOut(info, 5, op, u.x);
    (Reference ? PadRef : Pad)(u.x.dtype, In(u.x), u.x_shape, before, after, value, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value MirrorPadBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "mirrorPadRef" : "mirrorPad";
    Unary u = GetUnary(info, op);
    std::vector<int64_t> before = GetIntArray(info, 2, op, "before");
    std::vector<int64_t> after = GetIntArray(info, 3, op, "after");
    std::string mode = GetString(info, 4, op, "mode");
    if (mode != "reflect" && mode != "symmetric") ThrowArgError(op, "mode", "'reflect' or 'symmetric'", "'" + mode + "'");
    TensorArg out = GetOut(info, 5, op, u.x);
    (Reference ? MirrorPadRef : MirrorPad)(u.x.dtype, In(u.x), u.x_shape, before, after, mode == "symmetric", Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value ConcatBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "concatRef" : "concat";
    Napi::Array arrays = GetArray(info, 0, op, "xs");
    Napi::Array shape_list = GetArray(info, 1, op, "shapes");
    std::vector<ConstBuffer> xs;
    std::vector<Shape> shapes;
    DType dtype = DType::kFloat32;
    for (uint32_t i = 0; i < arrays.Length(); i++) {
      const std::string arg = "xs[" + std::to_string(i) + "]";
      TensorArg t = TensorAt(arrays, i, op, arg);
      if (i == 0) dtype = t.dtype;
      else if (t.dtype != dtype) ThrowArgError(op, arg, std::string("dtype ") + DTypeName(dtype), DTypeName(t.dtype));
      xs.push_back(In(t));
    }
    for (uint32_t i = 0; i < shape_list.Length(); i++) shapes.push_back(ShapeAt(shape_list, i, op, "shapes[" + std::to_string(i) + "]"));
    int64_t axis = GetInt(info, 2, op, "axis");
    TensorArg out = GetTensor(info, 3, op, "out");
    if (!xs.empty() && out.dtype != dtype) ThrowArgError(op, "out", std::string("dtype ") + DTypeName(dtype), DTypeName(out.dtype));
    (Reference ? ConcatRef : Concat)(dtype, xs, shapes, axis, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value SplitBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "splitRef" : "split";
    Unary u = GetUnary(info, op);
    int64_t axis = GetInt(info, 2, op, "axis");
    std::vector<int64_t> sizes = GetIntArray(info, 3, op, "sizes");
    Napi::Array arrays = GetArray(info, 4, op, "outs");
    std::vector<MutBuffer> outs;
    for (uint32_t i = 0; i < arrays.Length(); i++) {
      const std::string arg = "outs[" + std::to_string(i) + "]";
      TensorArg t = TensorAt(arrays, i, op, arg);
      CheckSameDType(u.x, t, op, arg.c_str());
      outs.push_back(Out(t));
    }
    (Reference ? SplitRef : Split)(u.x.dtype, In(u.x), u.x_shape, axis, sizes, outs);
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value GatherBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "gatherRef" : "gather";
    Unary u = GetUnary(info, op);
    Shape indices_shape = GetShape(info, 3, op, "indices.shape");
    TensorArg indices = GetIndices(info, 2, op, indices_shape);
    int64_t axis = GetInt(info, 4, op, "axis");
    int64_t batch_dims = GetInt(info, 5, op, "batchDims");
    TensorArg out = GetOut(info, 6, op, u.x);
    (Reference ? GatherRef : Gather)(u.x.dtype, In(u.x), u.x_shape, indices.as<int32_t>(), indices_shape, axis,
                                     batch_dims, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value GatherNdBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "gatherNdRef" : "gatherNd";
    Unary u = GetUnary(info, op);
    Shape indices_shape = GetShape(info, 3, op, "indices.shape");
    TensorArg indices = GetIndices(info, 2, op, indices_shape);
    TensorArg out = GetOut(info, 4, op, u.x);
    (Reference ? GatherNdRef : GatherNd)(u.x.dtype, In(u.x), u.x_shape, indices.as<int32_t>(), indices_shape, Out(out));
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value OneHotBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "oneHotRef" : "oneHot";
    TensorArg indices = GetTensor(info, 0, op, "indices");
    CheckDType(indices, DType::kInt32, op, "indices");
    int64_t depth = GetInt(info, 1, op, "depth");
    double on_value = GetNumber(info, 2, op, "onValue");
    double off_value = GetNumber(info, 3, op, "offValue");
    TensorArg out = GetTensor(info, 4, op, "out");
    (Reference ? OneHotRef : OneHot)(out.dtype, indices.as<int32_t>(), indices.length, depth, on_value, off_value, Out(out));
    return info.Env().Undefined();
  });
}

template <Napi::Value (*Optimized)(const Napi::CallbackInfo&), Napi::Value (*Reference)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const std::string& name) {
  exports.Set(name, Napi::Function::New(env, Optimized, name));
  exports.Set(name + "Ref", Napi::Function::New(env, Reference, name + "Ref"));
}

}  // namespace

void RegisterLayout(Napi::Env env, Napi::Object exports) {
  Export<TransposeBinding<false>, TransposeBinding<true>>(env, exports, "transpose");
  Export<StridedSliceBinding<false>, StridedSliceBinding<true>>(env, exports, "stridedSlice");
  Export<ReverseBinding<false>, ReverseBinding<true>>(env, exports, "reverse");
  Export<TileBinding<false>, TileBinding<true>>(env, exports, "tile");
  Export<PadBinding<false>, PadBinding<true>>(env, exports, "pad");
  Export<MirrorPadBinding<false>, MirrorPadBinding<true>>(env, exports, "mirrorPad");
  Export<ConcatBinding<false>, ConcatBinding<true>>(env, exports, "concat");
  Export<SplitBinding<false>, SplitBinding<true>>(env, exports, "split");
  Export<GatherBinding<false>, GatherBinding<true>>(env, exports, "gather");
  Export<GatherNdBinding<false>, GatherNdBinding<true>>(env, exports, "gatherNd");
  Export<OneHotBinding<false>, OneHotBinding<true>>(env, exports, "oneHot");
}

}  // namespace tessera
