// Pooling, resize and batch-norm kernels. Geometry arrives resolved (the TypeScript layer
// runs tfjs's computePool2DInfo); every size is checked against the buffers here so that no
// kernel can read or write outside them.
#include <napi.h>

#include <initializer_list>
#include <string>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/batchnorm.h"
#include "cpu/pool.h"
#include "cpu/resize.h"

namespace tessera {
namespace {

int64_t CheckedElements(std::initializer_list<int64_t> dims, const char* op, const char* arg) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) ThrowArgError(op, arg, "a size that fits in memory", "an overflowing size");
  }
  return n;
}

void CheckLength(const TensorArg& t, int64_t expected, const char* op, const char* arg) {
  if (t.length != expected) {
    ThrowArgError(op, arg, std::to_string(expected) + " elements", std::to_string(t.length));
  }
}

Pool2DGeometry GetPoolGeometry(const Napi::CallbackInfo& info, size_t index, const char* op) {
  std::vector<int64_t> v = GetIntArray(info, index, op, "geometry");
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

int64_t PoolInputSize(const Pool2DGeometry& g, const char* op) {
  return CheckedElements({g.batch, g.in_height, g.in_width, g.channels}, op, "x");
}

int64_t PoolOutputSize(const Pool2DGeometry& g, const char* op) {
  return CheckedElements({g.batch, g.out_height, g.out_width, g.channels}, op, "out");
}

template <bool Reference>
Napi::Value Pool2DBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "pool2dRef" : "pool2d";
    const std::string kind = GetString(info, 0, op, "type");
    if (kind != "max" && kind != "avg") ThrowArgError(op, "type", "'max' or 'avg'", "'" + kind + "'");
    TensorArg x = GetTensor(info, 1, op, "x");
    Pool2DGeometry g = GetPoolGeometry(info, 2, op);
    TensorArg out = GetTensor(info, 3, op, "out");
    if (x.dtype != DType::kFloat32 && x.dtype != DType::kInt32) ThrowArgError(op, "x", "dtype float32 or int32", DTypeName(x.dtype));
    CheckDType(out, x.dtype, op, "out");
    CheckLength(x, PoolInputSize(g, op), op, "x");
    CheckLength(out, PoolOutputSize(g, op), op, "out");
    const PoolType type = kind == "max" ? PoolType::kMax : PoolType::kAvg;
    if (Reference) {
      Pool2DRef(type, x.dtype, x.data, out.data, g);
    } else {
      Pool2D(type, x.dtype, x.data, out.data, g);
    }
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value MaxPoolGradBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "maxPoolGradRef" : "maxPoolGrad";
    TensorArg dy = GetTensor(info, 0, op, "dy");
    TensorArg x = GetTensor(info, 1, op, "x");
    Pool2DGeometry g = GetPoolGeometry(info, 2, op);
    TensorArg dx = GetTensor(info, 3, op, "dx");
    CheckDType(dy, DType::kFloat32, op, "dy");
    CheckDType(x, DType::kFloat32, op, "x");
    CheckDType(dx, DType::kFloat32, op, "dx");
    CheckLength(dy, PoolOutputSize(g, op), op, "dy");
    CheckLength(x, PoolInputSize(g, op), op, "x");
    CheckLength(dx, PoolInputSize(g, op), op, "dx");
    if (Reference) {
      MaxPoolGradRef(dy.as<float>(), x.as<float>(), dx.as<float>(), g);
    } else {
      MaxPoolGrad(dy.as<float>(), x.as<float>(), dx.as<float>(), g);
    }
    return info.Env().Undefined();
  });
}

template <bool Reference>
Napi::Value AvgPoolGradBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "avgPoolGradRef" : "avgPoolGrad";
    TensorArg dy = GetTensor(info, 0, op, "dy");
    Pool2DGeometry g = GetPoolGeometry(info, 1, op);
    TensorArg dx = GetTensor(info, 2, op, "dx");
    CheckDType(dy, DType::kFloat32, op, "dy");
    CheckDType(dx, DType::kFloat32, op, "dx");
    CheckLength(dy, PoolOutputSize(g, op), op, "dy");
    CheckLength(dx, PoolInputSize(g, op), op, "dx");
    if (Reference) {
      AvgPoolGradRef(dy.as<float>(), dx.as<float>(), g);
    } else {
      AvgPoolGrad(dy.as<float>(), dx.as<float>(), g);
    }
    return info.Env().Undefined();
  });
}

// A float32 parameter, or {nullptr, 0} where JS passed null or undefined and `optional`.
BatchNormParam GetBatchNormParam(const Napi::CallbackInfo& info, size_t index, bool optional, const char* op, const char* arg) {
  if (optional && (index >= info.Length() || info[index].IsNull() || info[index].IsUndefined())) return BatchNormParam{nullptr, 0};
  TensorArg t = GetTensor(info, index, op, arg);
  CheckDType(t, DType::kFloat32, op, arg);
  if (t.length < 1) ThrowArgError(op, arg, "at least one value", "0 values");
  return BatchNormParam{t.as<float>(), t.length};
}

template <bool Reference>
Napi::Value BatchNormBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "batchNormRef" : "batchNorm";
    TensorArg x = GetTensor(info, 0, op, "x");
    BatchNormParam mean = GetBatchNormParam(info, 1, false, op, "mean");
    BatchNormParam variance = GetBatchNormParam(info, 2, false, op, "variance");
    BatchNormParam offset = GetBatchNormParam(info, 3, true, op, "offset");
    BatchNormParam scale = GetBatchNormParam(info, 4, true, op, "scale");
    const double epsilon = GetNumber(info, 5, op, "varianceEpsilon");
    TensorArg out = GetTensor(info, 6, op, "out");
    CheckDType(x, DType::kFloat32, op, "x");
    CheckDType(out, DType::kFloat32, op, "out");
    CheckLength(out, x.length, op, "out");
    if (Reference) {
      BatchNormRef(x.as<float>(), x.length, mean, variance, offset, scale, epsilon, out.as<float>());
    } else {
      BatchNorm(x.as<float>(), x.length, mean, variance, offset, scale, epsilon, out.as<float>());
    }
    return info.Env().Undefined();
  });
}

// [batch, height, width, channels] of a 4-D shape argument.
Shape GetImageShape(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg) {
  Shape s = GetShape(info, index, op, arg);
  if (s.size() != 4) ThrowArgError(op, arg, "a shape of rank 4 [batch, height, width, channels]", ShapeToString(s));
  return s;
}

ResizeGeometry MakeResizeGeometry(const Shape& in, int64_t out_height, int64_t out_width, bool align_corners,
                                  bool half_pixel_centers) {
  return ResizeGeometry{in[0], in[1], in[2], in[3], out_height, out_width, align_corners, half_pixel_centers};
}

enum class ResizeKind { kBilinear, kNearest };

// (images, imagesShape, [newHeight, newWidth], alignCorners, halfPixelCenters, out)
template <ResizeKind Kind, bool Reference>
Napi::Value ResizeBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Kind == ResizeKind::kBilinear ? (Reference ? "resizeBilinearRef" : "resizeBilinear")
                                                   : (Reference ? "resizeNearestNeighborRef" : "resizeNearestNeighbor");
    TensorArg images = GetTensor(info, 0, op, "images");
    Shape shape = GetImageShape(info, 1, op, "images.shape");
    Shape size = GetShape(info, 2, op, "size");
    if (size.size() != 2) ThrowArgError(op, "size", "[newHeight, newWidth]", ShapeToString(size));
    const bool align_corners = GetBool(info, 3, op, "alignCorners");
    const bool half_pixel_centers = GetBool(info, 4, op, "halfPixelCenters");
    TensorArg out = GetTensor(info, 5, op, "out");
    if (images.dtype != DType::kFloat32 && images.dtype != DType::kInt32) {
      ThrowArgError(op, "images", "dtype float32 or int32", DTypeName(images.dtype));
    }
    ResizeGeometry g = MakeResizeGeometry(shape, size[0], size[1], align_corners, half_pixel_centers);
    CheckResizeGeometry(g, true, op);
    CheckLength(images, CheckedElements({g.batch, g.in_height, g.in_width, g.channels}, op, "images"), op, "images");
    CheckLength(out, CheckedElements({g.batch, g.out_height, g.out_width, g.channels}, op, "out"), op, "out");
    if (Kind == ResizeKind::kBilinear) {
      CheckDType(out, DType::kFloat32, op, "out");
      if (Reference) {
        ResizeBilinearRef(images.dtype, images.data, out.as<float>(), g);
      } else {
        ResizeBilinear(images.dtype, images.data, out.as<float>(), g);
      }
    } else {
      CheckDType(out, images.dtype, op, "out");
      if (Reference) {
        ResizeNearestNeighborRef(images.dtype, images.data, out.data, g);
      } else {
        ResizeNearestNeighbor(images.dtype, images.data, out.data, g);
      }
    }
    return info.Env().Undefined();
  });
}

// (dy, dyShape, imagesShape, alignCorners, dx)
template <ResizeKind Kind, bool Reference>
Napi::Value ResizeGradBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Kind == ResizeKind::kBilinear ? (Reference ? "resizeBilinearGradRef" : "resizeBilinearGrad")
                                                   : (Reference ? "resizeNearestNeighborGradRef" : "resizeNearestNeighborGrad");
    TensorArg dy = GetTensor(info, 0, op, "dy");
    Shape dy_shape = GetImageShape(info, 1, op, "dy.shape");
    Shape images_shape = GetImageShape(info, 2, op, "images.shape");
    const bool align_corners = GetBool(info, 3, op, "alignCorners");
    TensorArg dx = GetTensor(info, 4, op, "dx");
    CheckDType(dy, DType::kFloat32, op, "dy");
    CheckDType(dx, DType::kFloat32, op, "dx");
    if (dy_shape[0] != images_shape[0] || dy_shape[3] != images_shape[3]) {
      ThrowArgError(op, "dy.shape", "the batch and channels of images " + ShapeToString(images_shape), ShapeToString(dy_shape));
    }
    ResizeGeometry g = MakeResizeGeometry(images_shape, dy_shape[1], dy_shape[2], align_corners, false);
    CheckResizeGeometry(g, false, op);
    CheckLength(dy, CheckedElements({g.batch, g.out_height, g.out_width, g.channels}, op, "dy"), op, "dy");
    CheckLength(dx, CheckedElements({g.batch, g.in_height, g.in_width, g.channels}, op, "dx"), op, "dx");
    if (Kind == ResizeKind::kBilinear) {
      if (Reference) {
        ResizeBilinearGradRef(dy.as<float>(), dx.as<float>(), g);
      } else {
        ResizeBilinearGrad(dy.as<float>(), dx.as<float>(), g);
      }
    } else {
      if (Reference) {
        ResizeNearestNeighborGradRef(dy.as<float>(), dx.as<float>(), g);
      } else {
        ResizeNearestNeighborGrad(dy.as<float>(), dx.as<float>(), g);
      }
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterPool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool2d", Napi::Function::New(env, Pool2DBinding<false>, "pool2d"));
  exports.Set("pool2dRef", Napi::Function::New(env, Pool2DBinding<true>, "pool2dRef"));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGradBinding<false>, "maxPoolGrad"));
  exports.Set("maxPoolGradRef", Napi::Function::New(env, MaxPoolGradBinding<true>, "maxPoolGradRef"));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGradBinding<false>, "avgPoolGrad"));
  exports.Set("avgPoolGradRef", Napi::Function::New(env, AvgPoolGradBinding<true>, "avgPoolGradRef"));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNormBinding<false>, "batchNorm"));
  exports.Set("batchNormRef", Napi::Function::New(env, BatchNormBinding<true>, "batchNormRef"));
  exports.Set("resizeBilinear", Napi::Function::New(env, ResizeBinding<ResizeKind::kBilinear, false>, "resizeBilinear"));
  exports.Set("resizeBilinearRef", Napi::Function::New(env, ResizeBinding<ResizeKind::kBilinear, true>, "resizeBilinearRef"));
  exports.Set("resizeNearestNeighbor",
              Napi::Function::New(env, ResizeBinding<ResizeKind::kNearest, false>, "resizeNearestNeighbor"));
  exports.Set("resizeNearestNeighborRef",
              Napi::Function::New(env, ResizeBinding<ResizeKind::kNearest, true>, "resizeNearestNeighborRef"));
  exports.Set("resizeBilinearGrad",
              Napi::Function::New(env, ResizeGradBinding<ResizeKind::kBilinear, false>, "resizeBilinearGrad"));
  exports.Set("resizeBilinearGradRef",
              Napi::Function::New(env, ResizeGradBinding<ResizeKind::kBilinear, true>, "resizeBilinearGradRef"));
  exports.Set("resizeNearestNeighborGrad",
              Napi::Function::New(env, ResizeGradBinding<ResizeKind::kNearest, false>, "resizeNearestNeighborGrad"));
  exports.Set("resizeNearestNeighborGradRef",
              Napi::Function::New(env, ResizeGradBinding<ResizeKind::kNearest, true>, "resizeNearestNeighborGradRef"));
}

}  // namespace tessera
