#include "elementwise.cuh"

#include <string>

#include "common.cuh"
#include "cuda/check.h"

namespace tessera {

namespace {

using cuda_detail::GlobalThread;
using cuda_detail::GridFor;
using cuda_detail::GridStride;

constexpr int kBlock = 256;

__device__ __forceinline__ int32_t JsToInt32(double v) {
  if (!isfinite(v)) return 0;
  const double t = trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<int32_t>(t);
  double m = fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

__device__ __forceinline__ double JsPow(double a, double b) {
  if (isnan(b)) return nan("");
  if (isinf(b) && fabs(a) == 1.0) return nan("");
  return pow(a, b);
}

__device__ __forceinline__ float NanMax(float a, float b) { return (isnan(a) || isnan(b)) ? nanf("") : (a > b ? a : b); }
__device__ __forceinline__ float NanMin(float a, float b) { return (isnan(a) || isnan(b)) ? nanf("") : (a < b ? a : b); }

// native/cpu/binary.cc's per-element functions.
__device__ __forceinline__ float ApplyFloat(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kRealDiv: return a / b;
    case BinaryOp::kMaximum: return NanMax(a, b);
    case BinaryOp::kMinimum: return NanMin(a, b);
    case BinaryOp::kPow: return static_cast<float>(JsPow(a, b));
    case BinaryOp::kSquaredDifference: {
      const double d = static_cast<double>(a) - b;
      return static_cast<float>(d * d);
    }
    default: return nanf("");
  }
}

__device__ __forceinline__ int32_t ApplyInt(BinaryOp op, int32_t a, int32_t b) {
  switch (op) {
    case BinaryOp::kAdd: return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
    case BinaryOp::kSub: return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
    case BinaryOp::kMul: return JsToInt32(static_cast<double>(a) * b);
    case BinaryOp::kMaximum: return a > b ? a : b;
    case BinaryOp::kMinimum: return a < b ? a : b;
    case BinaryOp::kSquaredDifference: {
      const double d = static_cast<double>(a) - b;
      return JsToInt32(d * d);
    }
    default: return 0;
  }
}

template <typename T>
__device__ __forceinline__ uint8_t Compare(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::kEqual: return a == b;
    case BinaryOp::kNotEqual: return a != b;
    case BinaryOp::kLess: return a < b;
    case BinaryOp::kLessEqual: return a <= b;
    case BinaryOp::kGreater: return a > b;
    case BinaryOp::kGreaterEqual: return a >= b;
    default: return 0;
  }
}

template <typename T, typename O>
struct Op;
template <>
struct Op<float, float> {
  __device__ static float Apply(BinaryOp op, float a, float b) { return ApplyFloat(op, a, b); }
};
template <>
struct Op<int32_t, int32_t> {
  __device__ static int32_t Apply(BinaryOp op, int32_t a, int32_t b) { return ApplyInt(op, a, b); }
};
template <typename T>
struct Op<T, uint8_t> {
  __device__ static uint8_t Apply(BinaryOp op, T a, T b) { return Compare(op, a, b); }
};

// Elements read as a, b with a scalar operand indexed at 0 (kScalarA / kScalarB).
template <typename T, typename O, BinaryIndexing kIndexing>
__global__ void BinaryFlatKernel(BinaryOp op, const T* __restrict__ a, const T* __restrict__ b, O* __restrict__ out,
                                 int64_t n) {
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    const T x = kIndexing == BinaryIndexing::kScalarA ? a[0] : a[i];
    const T y = kIndexing == BinaryIndexing::kScalarB ? b[0] : b[i];
    out[i] = Op<T, O>::Apply(op, x, y);
  }
}

// The float4 version for 4-byte elements: n / 4 quads (the caller handles the tail with the
// scalar kernel). cudaMalloc'd buffers are 256-byte aligned, so quads are aligned.
template <typename T, BinaryIndexing kIndexing>
__global__ void BinaryQuadKernel(BinaryOp op, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                                 int64_t quads) {
  using V = typename std::conditional<std::is_same<T, float>::value, float4, int4>::type;
  const V* a4 = reinterpret_cast<const V*>(a);
  const V* b4 = reinterpret_cast<const V*>(b);
  V* o4 = reinterpret_cast<V*>(out);
  for (int64_t i = GlobalThread(); i < quads; i += GridStride()) {
    V x, y;
    if (kIndexing == BinaryIndexing::kScalarA) {
      x.x = x.y = x.z = x.w = a[0];
    } else {
      x = a4[i];
    }
    if (kIndexing == BinaryIndexing::kScalarB) {
      y.x = y.y = y.z = y.w = b[0];
    } else {
      y = b4[i];
    }
    V r;
    r.x = Op<T, T>::Apply(op, x.x, y.x);
    r.y = Op<T, T>::Apply(op, x.y, y.y);
    r.z = Op<T, T>::Apply(op, x.z, y.z);
    r.w = Op<T, T>::Apply(op, x.w, y.w);
    o4[i] = r;
  }
}

struct Strides {
  int rank;
  int64_t shape[kCudaMaxBroadcastRank];
  int64_t a[kCudaMaxBroadcastRank];
  int64_t b[kCudaMaxBroadcastRank];
};

template <typename T, typename O>
__global__ void BinaryGeneralKernel(BinaryOp op, const T* __restrict__ a, const T* __restrict__ b,
                                    O* __restrict__ out, int64_t n, Strides s) {
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int d = s.rank - 1; d >= 0; d--) {
      const int64_t coord = rest % s.shape[d];
      rest /= s.shape[d];
      ia += coord * s.a[d];
      ib += coord * s.b[d];
    }
    out[i] = Op<T, O>::Apply(op, a[ia], b[ib]);
  }
}

template <typename T, typename O>
void LaunchBinary(BinaryOp op, const BinaryLaunch& plan, const T* a, const T* b, O* out, int64_t n,
                  cudaStream_t stream) {
  const unsigned grid = GridFor(n, kBlock);
  switch (plan.indexing) {
    case BinaryIndexing::kGeneral: {
      Strides s{};
      s.rank = static_cast<int>(plan.plan.shape.size());
      for (int d = 0; d < s.rank; d++) {
        s.shape[d] = plan.plan.shape[d];
        s.a[d] = plan.plan.a_strides[d];
        s.b[d] = plan.plan.b_strides[d];
      }
      BinaryGeneralKernel<T, O><<<grid, kBlock, 0, stream>>>(op, a, b, out, n, s);
      break;
    }
    case BinaryIndexing::kFlat:
      BinaryFlatKernel<T, O, BinaryIndexing::kFlat><<<grid, kBlock, 0, stream>>>(op, a, b, out, n);
      break;
    case BinaryIndexing::kScalarA:
      BinaryFlatKernel<T, O, BinaryIndexing::kScalarA><<<grid, kBlock, 0, stream>>>(op, a, b, out, n);
      break;
    case BinaryIndexing::kScalarB:
      BinaryFlatKernel<T, O, BinaryIndexing::kScalarB><<<grid, kBlock, 0, stream>>>(op, a, b, out, n);
      break;
  }
  TESSERA_CUDA_CHECK_LAUNCH();
}

template <typename T>
void LaunchBinaryQuads(BinaryOp op, const BinaryLaunch& plan, const T* a, const T* b, T* out, int64_t n,
                       cudaStream_t stream) {
  const int64_t quads = n / 4;
  const unsigned grid = GridFor(quads, kBlock);
  switch (plan.indexing) {
    case BinaryIndexing::kFlat:
      BinaryQuadKernel<T, BinaryIndexing::kFlat><<<grid, kBlock, 0, stream>>>(op, a, b, out, quads);
      break;
    case BinaryIndexing::kScalarA:
      BinaryQuadKernel<T, BinaryIndexing::kScalarA><<<grid, kBlock, 0, stream>>>(op, a, b, out, quads);
      break;
    default:
      BinaryQuadKernel<T, BinaryIndexing::kScalarB><<<grid, kBlock, 0, stream>>>(op, a, b, out, quads);
      break;
  }
  TESSERA_CUDA_CHECK_LAUNCH();
  const int64_t done = quads * 4;
  if (done < n) {
    const T* a_tail = plan.indexing == BinaryIndexing::kScalarA ? a : a + done;
    const T* b_tail = plan.indexing == BinaryIndexing::kScalarB ? b : b + done;
    LaunchBinary<T, T>(op, plan, a_tail, b_tail, out + done, n - done, stream);
  }
}

// ---- unary: native/cpu/unary.cc's JavaScript formulas, in double ----

constexpr double kErfP = 0.3275911;
constexpr double kErfA1 = 0.254829592;
constexpr double kErfA2 = -0.284496736;
constexpr double kErfA3 = 1.421413741;
constexpr double kErfA4 = -1.453152027;
constexpr double kErfA5 = 1.061405429;
constexpr double kSeluScaleAlpha = 1.7580993408473768599402175208123;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
// Softplus.js: Math.log(float32 epsilon) + 2.
constexpr double kSoftplusThreshold = -15.942385152878742 + 2.0;

// V8's Math.exp returns 1 + x for |x| < 2^-28 (see native/cpu/unary.cc).
__device__ __forceinline__ double JsExp(double x) { return fabs(x) < 0x1p-28 ? 1.0 + x : exp(x); }

__device__ __forceinline__ double JsMax(double a, double b) {
  if (isnan(a) || isnan(b)) return nan("");
  if (a == b) return signbit(a) ? b : a;
  return a > b ? a : b;
}

__device__ __forceinline__ double JsMin(double a, double b) {
  if (isnan(a) || isnan(b)) return nan("");
  if (a == b) return signbit(a) ? a : b;
  return a < b ? a : b;
}

__device__ double UnaryScalar(UnaryOp op, double x, const UnaryAttrs& at) {
  switch (op) {
    case UnaryOp::kAbs: return fabs(x);
    case UnaryOp::kAcos: return acos(x);
    case UnaryOp::kAcosh: return acosh(x);
    case UnaryOp::kAsin: return asin(x);
    case UnaryOp::kAsinh: return asinh(x);
    case UnaryOp::kAtan: return atan(x);
    case UnaryOp::kAtanh: return atanh(x);
    case UnaryOp::kCeil: return ceil(x);
    case UnaryOp::kCos: return cos(x);
    case UnaryOp::kCosh: return cosh(x);
    case UnaryOp::kErf: {
      const double sign = x > 0 ? 1.0 : x < 0 ? -1.0 : x;
      const double v = fabs(x);
      const double t = 1.0 / (1.0 + kErfP * v);
      return sign * (1.0 - (((((kErfA5 * t + kErfA4) * t) + kErfA3) * t + kErfA2) * t + kErfA1) * t * JsExp(-v * v));
    }
    case UnaryOp::kExp: return JsExp(x);
    case UnaryOp::kExpm1: return expm1(x);
    case UnaryOp::kFloor: return floor(x);
    case UnaryOp::kLog: return log(x);
    case UnaryOp::kLog1p: return log1p(x);
    case UnaryOp::kNeg: return -1.0 * x;
    case UnaryOp::kReciprocal: return 1.0 / x;
    case UnaryOp::kRsqrt: return 1.0 / sqrt(x);
    case UnaryOp::kSign: return x < 0 ? -1.0 : x > 0 ? 1.0 : 0.0;
    case UnaryOp::kSin: return sin(x);
    case UnaryOp::kSinh: return sinh(x);
    case UnaryOp::kSqrt: return sqrt(x);
    case UnaryOp::kSquare: return static_cast<float>(x * x);
    case UnaryOp::kTan: return tan(x);
    case UnaryOp::kTanh: return tanh(x);
    case UnaryOp::kStep: return isnan(x) ? nan("") : x > 0 ? 1.0 : at.alpha;
    case UnaryOp::kClipByValue: return x > at.clip_max ? at.clip_max : x < at.clip_min ? at.clip_min : x;
    case UnaryOp::kRelu: return JsMax(0, x);
    case UnaryOp::kRelu6: return JsMin(JsMax(0, x), 6);
    case UnaryOp::kLeakyRelu: return x < 0 ? at.alpha * x : x;
    case UnaryOp::kElu: return x >= 0 ? x : JsExp(x) - 1;
    case UnaryOp::kSelu: return x >= 0 ? kSeluScale * x : kSeluScaleAlpha * (JsExp(x) - 1);
    case UnaryOp::kSigmoid: return 1 / (1 + JsExp(-x));
    case UnaryOp::kSoftplus: {
      const double exp_x = JsExp(x);
      if (x < kSoftplusThreshold) return exp_x;
      if (x > -kSoftplusThreshold) return x;
      return log(1.0 + exp_x);
    }
    default: return nan("");
  }
}

__global__ void UnaryKernel(UnaryOp op, const float* __restrict__ x, float* __restrict__ out, int64_t n,
                            UnaryAttrs attrs) {
  const int64_t quads = n / 4;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* o4 = reinterpret_cast<float4*>(out);
  for (int64_t i = GlobalThread(); i < quads; i += GridStride()) {
    const float4 v = x4[i];
    o4[i] = make_float4(static_cast<float>(UnaryScalar(op, v.x, attrs)), static_cast<float>(UnaryScalar(op, v.y, attrs)),
                        static_cast<float>(UnaryScalar(op, v.z, attrs)), static_cast<float>(UnaryScalar(op, v.w, attrs)));
  }
  for (int64_t i = quads * 4 + GlobalThread(); i < n; i += GridStride()) {
    out[i] = static_cast<float>(UnaryScalar(op, x[i], attrs));
  }
}

}  // namespace

bool CudaBinarySupports(BinaryOp op, DType dtype) {
  switch (op) {
    case BinaryOp::kEqual: case BinaryOp::kNotEqual: case BinaryOp::kLess: case BinaryOp::kLessEqual:
    case BinaryOp::kGreater: case BinaryOp::kGreaterEqual:
    case BinaryOp::kAdd: case BinaryOp::kSub: case BinaryOp::kMul: case BinaryOp::kMaximum:
    case BinaryOp::kMinimum: case BinaryOp::kSquaredDifference:
      return dtype == DType::kFloat32 || dtype == DType::kInt32;
    case BinaryOp::kRealDiv: case BinaryOp::kPow:
      return dtype == DType::kFloat32;
    default:
      return false;
  }
}

bool CudaUnarySupports(UnaryOp op) {
  switch (op) {
    case UnaryOp::kIsFinite: case UnaryOp::kIsInf: case UnaryOp::kIsNan: case UnaryOp::kLogicalNot:
    case UnaryOp::kRound:
      return false;
    default:
      return true;
  }
}

BinaryLaunch PlanBinaryCuda(DType dtype, bool bool_out, const Shape& a_shape, const Shape& b_shape,
                            const Shape& out_shape) {
  BinaryLaunch launch{};
  const int64_t n = ShapeSize(out_shape);
  const int64_t na = ShapeSize(a_shape), nb = ShapeSize(b_shape);
  if (na == n && nb == n) launch.indexing = BinaryIndexing::kFlat;
  else if (na == 1 && nb == n) launch.indexing = BinaryIndexing::kScalarA;
  else if (nb == 1 && na == n) launch.indexing = BinaryIndexing::kScalarB;
  else launch.indexing = BinaryIndexing::kGeneral;
  if (launch.indexing == BinaryIndexing::kGeneral) {
    launch.plan = PlanBroadcast(a_shape, b_shape, out_shape);
    if (launch.plan.shape.size() > static_cast<size_t>(kCudaMaxBroadcastRank)) {
      throw Error("binary: expected at most " + std::to_string(kCudaMaxBroadcastRank) +
                  " dimensions after merging for the broadcast but got " + std::to_string(launch.plan.shape.size()));
    }
  }
  launch.vectorized = launch.indexing != BinaryIndexing::kGeneral && !bool_out && n >= 4 && DTypeSize(dtype) == 4;
  return launch;
}

void BinaryCuda(BinaryOp op, DType dtype, const void* a, const Shape& a_shape, const void* b, const Shape& b_shape,
                void* out, const Shape& out_shape, cudaStream_t stream) {
  if (!CudaBinarySupports(op, dtype)) throw Error(std::string("binary: no CUDA kernel for this op on ") + DTypeName(dtype));
  const int64_t n = ShapeSize(out_shape);
  if (n == 0) return;
  const bool bool_out = BinaryOpReturnsBool(op);
  const BinaryLaunch plan = PlanBinaryCuda(dtype, bool_out, a_shape, b_shape, out_shape);
  if (dtype == DType::kFloat32) {
    const float* fa = static_cast<const float*>(a);
    const float* fb = static_cast<const float*>(b);
    if (bool_out) LaunchBinary<float, uint8_t>(op, plan, fa, fb, static_cast<uint8_t*>(out), n, stream);
    else if (plan.vectorized) LaunchBinaryQuads<float>(op, plan, fa, fb, static_cast<float*>(out), n, stream);
    else LaunchBinary<float, float>(op, plan, fa, fb, static_cast<float*>(out), n, stream);
  } else {
    const int32_t* ia = static_cast<const int32_t*>(a);
    const int32_t* ib = static_cast<const int32_t*>(b);
    if (bool_out) LaunchBinary<int32_t, uint8_t>(op, plan, ia, ib, static_cast<uint8_t*>(out), n, stream);
    else if (plan.vectorized) LaunchBinaryQuads<int32_t>(op, plan, ia, ib, static_cast<int32_t*>(out), n, stream);
    else LaunchBinary<int32_t, int32_t>(op, plan, ia, ib, static_cast<int32_t*>(out), n, stream);
  }
}

void UnaryCuda(UnaryOp op, const float* x, float* out, int64_t n, const UnaryAttrs& attrs, cudaStream_t stream) {
  if (!CudaUnarySupports(op)) throw Error("unary: no CUDA kernel for this op");
  if (n == 0) return;
  UnaryKernel<<<GridFor((n + 3) / 4, kBlock), kBlock, 0, stream>>>(op, x, out, n, attrs);
  TESSERA_CUDA_CHECK_LAUNCH();
}

}  // namespace tessera
