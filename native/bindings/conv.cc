// Convolution kernels: Conv2D (with the fused bias/activation), its two gradients, and the
// depthwise variants. JS resolves strides, padding and output size (tfjs's computeConv2DInfo)
// and passes the numbers; everything is checked again here against the actual buffers.
#include <napi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/conv.h"
#include "cpu/conv_lab.h"

namespace tessera {
namespace {

enum class ConvKind { kRegular, kDepthwise };

// geometry = [stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, out_h, out_w]
void ReadGeometry(const Napi::CallbackInfo& info, size_t index, const char* op, ConvGeometry* g) {
  std::vector<int64_t> v = GetIntArray(info, index, op, "geometry");
  if (v.size() != 8) {
    ThrowArgError(op, "geometry", "8 integers [strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW]",
                  std::to_string(v.size()) + " values");
  }
  if (v[0] < 1 || v[1] < 1) ThrowArgError(op, "strides", "integers >= 1", std::to_string(v[0]) + ", " + std::to_string(v[1]));
  if (v[2] < 1 || v[3] < 1) ThrowArgError(op, "dilations", "integers >= 1", std::to_string(v[2]) + ", " + std::to_string(v[3]));
  if (v[6] < 0 || v[7] < 0) ThrowArgError(op, "output size", "non-negative integers", std::to_string(v[6]) + ", " + std::to_string(v[7]));
  g->stride_h = v[0];
  g->stride_w = v[1];
  g->dilation_h = v[2];
  g->dilation_w = v[3];
  g->pad_top = v[4];
  g->pad_left = v[5];
  g->out_h = v[6];
  g->out_w = v[7];
}

Shape GetRank4Shape(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Shape s = GetShape(info, index, op, arg);
  if (s.size() != 4) ThrowArgError(op, arg, "a rank-4 shape", ShapeToString(s));
  return s;
}

TensorArg GetFloatTensor(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg, const Shape& shape) {
  TensorArg t = GetTensor(info, index, op, arg);
  CheckDType(t, DType::kFloat32, op, arg);
  CheckTensorShape(t, shape, op, arg);
  return t;
}

// Sets the input and filter dimensions from x's shape [N, H, W, C] and the filter's
// [KH, KW, C, OC] (depthwise: [KH, KW, C, multiplier]).
void SetDims(const Shape& x_shape, const Shape& filter_shape, ConvKind kind, const char* op, ConvGeometry* g) {
  if (filter_shape[2] != x_shape[3]) {
    ThrowArgError(op, "filter", "shape[2] equal to the input channels (" + std::to_string(x_shape[3]) + ")",
                  ShapeToString(filter_shape));
  }
  g->batch = x_shape[0];
  g->in_h = x_shape[1];
  g->in_w = x_shape[2];
  g->in_c = x_shape[3];
  g->filter_h = filter_shape[0];
  g->filter_w = filter_shape[1];
  if (kind == ConvKind::kDepthwise) {
    g->channel_multiplier = filter_shape[3];
    g->out_c = g->in_c * g->channel_multiplier;
  } else {
    g->out_c = filter_shape[3];
  }
}

Shape OutShape(const ConvGeometry& g) { return {g.batch, g.out_h, g.out_w, g.out_c}; }

Activation ParseActivation(const std::string& name, const char* op) {
  if (name == "linear" || name.empty()) return Activation::kNone;
  if (name == "relu") return Activation::kRelu;
  if (name == "relu6") return Activation::kRelu6;
  if (name == "leakyrelu") return Activation::kLeakyRelu;
  if (name == "prelu") return Activation::kPrelu;
  if (name == "elu") return Activation::kElu;
  if (name == "sigmoid") return Activation::kSigmoid;
  ThrowArgError(op, "activation", "one of linear, relu, relu6, leakyrelu, prelu, elu, sigmoid", "'" + name + "'");
}

// An epilogue operand (bias or prelu alpha) broadcast to the output [N, OH, OW, OC]: one
// value per channel when it varies along channels only (pointing at the caller's data, or
// at `storage` when a single value is repeated), else expanded to one value per element.
const float* BroadcastOperand(const Napi::CallbackInfo& info, size_t index, const Shape& out_shape, const char* op,
                              const char* arg, std::vector<float>* storage, bool* per_element) {
  Shape shape = GetShape(info, index + 1, op, (std::string(arg) + ".shape").c_str());
  TensorArg t = GetFloatTensor(info, index, op, arg, shape);
  if (shape.size() > out_shape.size() || BroadcastShapes(out_shape, shape, op) != out_shape) {
    ThrowArgError(op, arg, "a shape that broadcasts to the output shape " + ShapeToString(out_shape), ShapeToString(shape));
  }
  const int64_t channels = out_shape.back();
  bool channel_only = true;
  for (size_t i = 0; i + 1 < shape.size(); i++) channel_only = channel_only && shape[i] == 1;
  const float* data = t.as<float>();
  *per_element = false;
  if (channel_only && t.length == channels) return data;
  if (channel_only && t.length == 1) {
    storage->assign(channels, data[0]);
    return storage->data();
  }
  *per_element = true;
  storage->resize(ShapeSize(out_shape));
  std::vector<int64_t> strides = BroadcastStrides(shape, out_shape);
  int64_t i = 0;
  for (int64_t a = 0; a < out_shape[0]; a++) {
    for (int64_t b = 0; b < out_shape[1]; b++) {
      for (int64_t c = 0; c < out_shape[2]; c++) {
        const float* src = data + a * strides[0] + b * strides[1] + c * strides[2];
        for (int64_t d = 0; d < out_shape[3]; d++) (*storage)[i++] = src[d * strides[3]];
      }
    }
  }
  return storage->data();
}

using ForwardFn = void (*)(const ConvGeometry&, const float*, const float*, float*, const Epilogue&);
using BackpropFn = void (*)(const ConvGeometry&, const float*, const float*, float*);

// (x, xShape, filter, filterShape, out, geometry, bias|null, biasShape|null, activation,
//  preluAlpha|null, preluAlphaShape|null, leakyreluAlpha)
template <ConvKind Kind, ForwardFn Fn>
Napi::Value ForwardBinding(const Napi::CallbackInfo& info, const char* op) {
  return Guard(info, [&]() -> Napi::Value {
    Shape x_shape = GetRank4Shape(info, 1, op, "x.shape");
    Shape filter_shape = GetRank4Shape(info, 3, op, "filter.shape");
    TensorArg x = GetFloatTensor(info, 0, op, "x", x_shape);
    TensorArg filter = GetFloatTensor(info, 2, op, "filter", filter_shape);
    ConvGeometry g;
    SetDims(x_shape, filter_shape, Kind, op, &g);
    ReadGeometry(info, 5, op, &g);
    Shape out_shape = OutShape(g);
    TensorArg out = GetFloatTensor(info, 4, op, "out", out_shape);

    Epilogue e;
    std::vector<float> bias_storage, alpha_storage;
    if (!info[6].IsNull() && !info[6].IsUndefined()) {
      e.bias = BroadcastOperand(info, 6, out_shape, op, "bias", &bias_storage, &e.bias_per_element);
    }
    e.activation = ParseActivation(GetString(info, 8, op, "activation"), op);
    if (e.activation == Activation::kPrelu) {
      e.prelu_alpha = BroadcastOperand(info, 9, out_shape, op, "preluActivationWeights", &alpha_storage, &e.prelu_per_element);
    }
    e.leaky_alpha = static_cast<float>(GetNumber(info, 11, op, "leakyreluAlpha"));
    Fn(g, x.as<float>(), filter.as<float>(), out.as<float>(), e);
    return info.Env().Undefined();
  });
}

// (dy, dyShape, filter, filterShape, dx, dxShape, geometry)
template <ConvKind Kind, BackpropFn Fn>
Napi::Value BackpropInputBinding(const Napi::CallbackInfo& info, const char* op) {
  return Guard(info, [&]() -> Napi::Value {
    Shape dy_shape = GetRank4Shape(info, 1, op, "dy.shape");
    Shape filter_shape = GetRank4Shape(info, 3, op, "filter.shape");
    Shape dx_shape = GetRank4Shape(info, 5, op, "dx.shape");
    TensorArg dy = GetFloatTensor(info, 0, op, "dy", dy_shape);
    TensorArg filter = GetFloatTensor(info, 2, op, "filter", filter_shape);
    TensorArg dx = GetFloatTensor(info, 4, op, "dx", dx_shape);
    ConvGeometry g;
    SetDims(dx_shape, filter_shape, Kind, op, &g);
    ReadGeometry(info, 6, op, &g);
    if (dy_shape != OutShape(g)) ThrowArgError(op, "dy.shape", ShapeToString(OutShape(g)), ShapeToString(dy_shape));
    Fn(g, dy.as<float>(), filter.as<float>(), dx.as<float>());
    return info.Env().Undefined();
  });
}

// (x, xShape, dy, dyShape, dfilter, filterShape, geometry)
template <ConvKind Kind, BackpropFn Fn>
Napi::Value BackpropFilterBinding(const Napi::CallbackInfo& info, const char* op) {
  return Guard(info, [&]() -> Napi::Value {
    Shape x_shape = GetRank4Shape(info, 1, op, "x.shape");
    Shape dy_shape = GetRank4Shape(info, 3, op, "dy.shape");
    Shape filter_shape = GetRank4Shape(info, 5, op, "filter.shape");
    TensorArg x = GetFloatTensor(info, 0, op, "x", x_shape);
    TensorArg dy = GetFloatTensor(info, 2, op, "dy", dy_shape);
    TensorArg dfilter = GetFloatTensor(info, 4, op, "dfilter", filter_shape);
    ConvGeometry g;
    SetDims(x_shape, filter_shape, Kind, op, &g);
    ReadGeometry(info, 6, op, &g);
    if (dy_shape != OutShape(g)) ThrowArgError(op, "dy.shape", ShapeToString(OutShape(g)), ShapeToString(dy_shape));
    Fn(g, x.as<float>(), dy.as<float>(), dfilter.as<float>());
    return info.Env().Undefined();
  });
}

#define TESSERA_CONV_BINDING(NAME, BINDING, KIND, FN) \
  Napi::Value NAME(const Napi::CallbackInfo& info) { return BINDING<KIND, FN>(info, #NAME); }

TESSERA_CONV_BINDING(conv2d, ForwardBinding, ConvKind::kRegular, Conv2D)
TESSERA_CONV_BINDING(conv2dRef, ForwardBinding, ConvKind::kRegular, Conv2DRef)
TESSERA_CONV_BINDING(conv2dBackpropInput, BackpropInputBinding, ConvKind::kRegular, Conv2DBackpropInput)
TESSERA_CONV_BINDING(conv2dBackpropInputRef, BackpropInputBinding, ConvKind::kRegular, Conv2DBackpropInputRef)
TESSERA_CONV_BINDING(conv2dBackpropFilter, BackpropFilterBinding, ConvKind::kRegular, Conv2DBackpropFilter)
TESSERA_CONV_BINDING(conv2dBackpropFilterRef, BackpropFilterBinding, ConvKind::kRegular, Conv2DBackpropFilterRef)
TESSERA_CONV_BINDING(depthwiseConv2d, ForwardBinding, ConvKind::kDepthwise, DepthwiseConv2D)
TESSERA_CONV_BINDING(depthwiseConv2dRef, ForwardBinding, ConvKind::kDepthwise, DepthwiseConv2DRef)
TESSERA_CONV_BINDING(depthwiseConv2dBackpropInput, BackpropInputBinding, ConvKind::kDepthwise, DepthwiseConv2DBackpropInput)
TESSERA_CONV_BINDING(depthwiseConv2dBackpropInputRef, BackpropInputBinding, ConvKind::kDepthwise,
                     DepthwiseConv2DBackpropInputRef)
TESSERA_CONV_BINDING(depthwiseConv2dBackpropFilter, BackpropFilterBinding, ConvKind::kDepthwise,
                     DepthwiseConv2DBackpropFilter)
TESSERA_CONV_BINDING(depthwiseConv2dBackpropFilterRef, BackpropFilterBinding, ConvKind::kDepthwise,
                     DepthwiseConv2DBackpropFilterRef)
#undef TESSERA_CONV_BINDING

ConvPass ParsePass(const std::string& name, const char* op) {
  if (name == "forward") return ConvPass::kForward;
  if (name == "input") return ConvPass::kBackpropInput;
  if (name == "filter") return ConvPass::kBackpropFilter;
  ThrowArgError(op, "pass", "one of forward, input, filter", "'" + name + "'");
}

// convLab(pass, variant, xShape, filterShape, geometry, a, b, out, [tileRows, tileCols,
// chunkPixels, blockRows, rowTiles, filterMode, inputMode]): one lab variant (see native/cpu/conv_lab.h); a, b and out are
// (x, filter, y), (dy, filter, dx) or (x, dy, dfilter) by pass. Returns whether it applied.
Napi::Value convLab(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "convLab";
    ConvPass pass = ParsePass(GetString(info, 0, op, "pass"), op);
    int64_t variant = GetInt(info, 1, op, "variant");
    Shape x_shape = GetRank4Shape(info, 2, op, "xShape");
    Shape filter_shape = GetRank4Shape(info, 3, op, "filterShape");
    ConvGeometry g;
    SetDims(x_shape, filter_shape, ConvKind::kRegular, op, &g);
    ReadGeometry(info, 4, op, &g);
    Shape y_shape = OutShape(g);
    const Shape* shapes[3][3] = {{&x_shape, &filter_shape, &y_shape},
                                 {&y_shape, &filter_shape, &x_shape},
                                 {&x_shape, &y_shape, &filter_shape}};
    const Shape* const* s = shapes[static_cast<int>(pass)];
    TensorArg a = GetFloatTensor(info, 5, op, "a", *s[0]);
    TensorArg b = GetFloatTensor(info, 6, op, "b", *s[1]);
    TensorArg out = GetFloatTensor(info, 7, op, "out", *s[2]);
    std::vector<int64_t> o = GetIntArray(info, 8, op, "options");
    if (o.size() != 7 || *std::min_element(o.begin(), o.end()) < 0) {
      ThrowArgError(op, "options",
                    "7 non-negative integers [tileRows, tileCols, chunkPixels, blockRows, rowTiles, filterMode, inputMode]",
                    std::to_string(o.size()) + " values");
    }
    ConvLabOptions options;
    options.tile_rows = static_cast<int>(o[0]);
    options.tile_cols = static_cast<int>(o[1]);
    options.chunk_pixels = o[2];
    options.block_rows = o[3];
    options.row_tiles = static_cast<int>(o[4]);
    options.filter_mode = static_cast<int>(o[5]);
    options.input_mode = static_cast<int>(o[6]);
    bool applied = ConvLab(pass, static_cast<int>(variant), g, a.as<float>(), b.as<float>(), out.as<float>(), options);
    return Napi::Boolean::New(info.Env(), applied);
  });
}

Napi::Value convLabVariants(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    std::vector<ConvLabVariant> variants = ConvLabVariants(ParsePass(GetString(info, 0, "convLabVariants", "pass"), "convLabVariants"));
    Napi::Array out = Napi::Array::New(info.Env(), variants.size());
    for (size_t i = 0; i < variants.size(); i++) {
      Napi::Object v = Napi::Object::New(info.Env());
      v.Set("name", variants[i].name);
      v.Set("available", variants[i].available);
      Napi::Array tiles = Napi::Array::New(info.Env(), variants[i].tiles.size());
      for (size_t t = 0; t < variants[i].tiles.size(); t++) tiles.Set(static_cast<uint32_t>(t), variants[i].tiles[t]);
      v.Set("tiles", tiles);
      out.Set(static_cast<uint32_t>(i), v);
    }
    return out;
  });
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, Napi::Value (*)(const Napi::CallbackInfo&)> functions[] = {
      {"conv2d", conv2d},
      {"conv2dRef", conv2dRef},
      {"conv2dBackpropInput", conv2dBackpropInput},
      {"conv2dBackpropInputRef", conv2dBackpropInputRef},
      {"conv2dBackpropFilter", conv2dBackpropFilter},
      {"conv2dBackpropFilterRef", conv2dBackpropFilterRef},
      {"depthwiseConv2d", depthwiseConv2d},
      {"depthwiseConv2dRef", depthwiseConv2dRef},
      {"depthwiseConv2dBackpropInput", depthwiseConv2dBackpropInput},
      {"depthwiseConv2dBackpropInputRef", depthwiseConv2dBackpropInputRef},
      {"depthwiseConv2dBackpropFilter", depthwiseConv2dBackpropFilter},
      {"depthwiseConv2dBackpropFilterRef", depthwiseConv2dBackpropFilterRef},
      {"convLab", convLab},
      {"convLabVariants", convLabVariants},
  };
  for (const auto& [name, fn] : functions) exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace tessera
