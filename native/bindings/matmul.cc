// Matrix products: the batched MatMul kernels, the raw Sgemm per ISA (for tests) and the
// GEMM kernel lab (for benchmarks).
#include <napi.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "cpu/gemm.h"
#include "cpu/gemm_lab.h"
#include "cpu/matmul.h"

namespace tessera {
namespace {

bool IsAbsent(const Napi::CallbackInfo& info, size_t index) {
  return index >= info.Length() || info[index].IsNull() || info[index].IsUndefined();
}

// An optional float32 tensor argument with its shape at index + 1; nullptr when absent.
const float* GetOptionalFloatTensor(const Napi::CallbackInfo& info, size_t index, const char* op, const char* arg,
                                    Shape* shape) {
  if (IsAbsent(info, index)) return nullptr;
  TensorArg t = GetTensor(info, index, op, arg);
  CheckDType(t, DType::kFloat32, op, arg);
  std::string shape_arg = std::string(arg) + ".shape";
  *shape = GetShape(info, index + 1, op, shape_arg.c_str());
  CheckTensorShape(t, *shape, op, arg);
  return t.as<float>();
}

// matMul(a, aShape, b, bShape, transposeA, transposeB, out, bias?, biasShape?, activation,
//        leakyreluAlpha, prelu?, preluShape?)
template <bool Reference>
Napi::Value MatMulBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = Reference ? "matMulRef" : "matMul";
    TensorArg a = GetTensor(info, 0, op, "a");
    Shape a_shape = GetShape(info, 1, op, "a.shape");
    TensorArg b = GetTensor(info, 2, op, "b");
    Shape b_shape = GetShape(info, 3, op, "b.shape");
    bool trans_a = GetBool(info, 4, op, "transposeA");
    bool trans_b = GetBool(info, 5, op, "transposeB");
    TensorArg out = GetTensor(info, 6, op, "out");
    CheckTensorShape(a, a_shape, op, "a");
    CheckTensorShape(b, b_shape, op, "b");
    CheckSameDType(a, b, op, "b");
    if (a.dtype == DType::kBool) ThrowArgError(op, "a", "dtype float32 or int32", "bool");
    Shape out_shape = MatMulShape(a_shape, b_shape, trans_a, trans_b, op);
    CheckTensorShape(out, out_shape, op, "out");
    CheckDType(out, a.dtype, op, "out");
    MatMulEpilogue e;
    e.bias = GetOptionalFloatTensor(info, 7, op, "bias", &e.bias_shape);
    e.activation = ParseActivation(GetString(info, 9, op, "activation"), op);
    e.leaky_alpha = GetNumber(info, 10, op, "leakyreluAlpha");
    e.prelu_alpha = GetOptionalFloatTensor(info, 11, op, "preluActivationWeights", &e.prelu_shape);
    if (a.dtype == DType::kInt32) {
      if (e.bias != nullptr || e.activation != Activation::kNone) {
        ThrowArgError(op, "activation", "no bias and a linear activation for an int32 product",
                      e.bias != nullptr ? "a bias" : GetString(info, 9, op, "activation"));
      }
      if (Reference) {
        MatMulInt32Ref(a.as<int32_t>(), a_shape, b.as<int32_t>(), b_shape, trans_a, trans_b, out.as<int32_t>());
      } else {
        MatMulInt32(a.as<int32_t>(), a_shape, b.as<int32_t>(), b_shape, trans_a, trans_b, out.as<int32_t>());
      }
      return info.Env().Undefined();
    }
    if (e.activation == Activation::kPrelu && e.prelu_alpha == nullptr) {
      ThrowArgError(op, "preluActivationWeights", "a float32 tensor when the activation is prelu", "none");
    }
    // Checked here as well as in MatMul: the reference must not read past a bias either.
    for (auto [data, shape, arg] : {std::make_tuple(e.bias, &e.bias_shape, "bias"),
                                    std::make_tuple(e.activation == Activation::kPrelu ? e.prelu_alpha : nullptr,
                                                    &e.prelu_shape, "preluActivationWeights")}) {
      if (data != nullptr && BroadcastShapes(out_shape, *shape, op) != out_shape) {
        ThrowArgError(op, arg, "a shape that broadcasts to the output shape " + ShapeToString(out_shape),
                      ShapeToString(*shape));
      }
    }
    if (Reference) {
      MatMulRef(a.as<float>(), a_shape, b.as<float>(), b_shape, trans_a, trans_b, out.as<float>(), e);
    } else {
      MatMul(a.as<float>(), a_shape, b.as<float>(), b_shape, trans_a, trans_b, out.as<float>(), e);
    }
    return info.Env().Undefined();
  });
}

Isa ParseIsa(const std::string& name, const char* op) {
  if (name == "generic") return Isa::kGeneric;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "avx512") return Isa::kAvx512;
  ThrowArgError(op, "isa", "generic, avx2, avx512, auto or ref", "'" + name + "'");
}

// Elements a row-major matrix of rows x cols with leading dimension ld spans.
int64_t Span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

void CheckMatrix(const TensorArg& t, int64_t rows, int64_t cols, int64_t ld, const char* op, const char* arg,
                 const char* ld_arg) {
  CheckDType(t, DType::kFloat32, op, arg);
  if (ld < std::max<int64_t>(cols, 1)) {
    ThrowArgError(op, ld_arg, "at least " + std::to_string(std::max<int64_t>(cols, 1)), std::to_string(ld));
  }
  if (t.length < Span(rows, cols, ld)) {
    ThrowArgError(op, arg, "at least " + std::to_string(Span(rows, cols, ld)) + " elements", std::to_string(t.length));
  }
}

// sgemm(isa, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias?, biasPerElement,
//       activation, leakyAlpha, prelu?, preluPerElement): the engine's own interface, with
// isa = generic | avx2 | avx512 | auto | ref.
Napi::Value SgemmBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "sgemm";
    std::string isa_name = GetString(info, 0, op, "isa");
    bool trans_a = GetBool(info, 1, op, "transA");
    bool trans_b = GetBool(info, 2, op, "transB");
    int64_t m = GetInt(info, 3, op, "m");
    int64_t n = GetInt(info, 4, op, "n");
    int64_t k = GetInt(info, 5, op, "k");
    if (m < 0 || n < 0 || k < 0) ThrowArgError(op, "m, n, k", "non-negative sizes", ShapeToString({m, n, k}));
    TensorArg a = GetTensor(info, 6, op, "a");
    int64_t lda = GetInt(info, 7, op, "lda");
    TensorArg b = GetTensor(info, 8, op, "b");
    int64_t ldb = GetInt(info, 9, op, "ldb");
    TensorArg c = GetTensor(info, 10, op, "c");
    int64_t ldc = GetInt(info, 11, op, "ldc");
    bool accumulate = GetBool(info, 12, op, "accumulate");
    CheckMatrix(a, trans_a ? k : m, trans_a ? m : k, lda, op, "a", "lda");
    CheckMatrix(b, trans_b ? n : k, trans_b ? k : n, ldb, op, "b", "ldb");
    CheckMatrix(c, m, n, ldc, op, "c", "ldc");
    Epilogue e;
    bool bias_per_element = GetBool(info, 14, op, "biasPerElement");
    if (!IsAbsent(info, 13)) {
      TensorArg bias = GetTensor(info, 13, op, "bias");
      CheckDType(bias, DType::kFloat32, op, "bias");
      int64_t need = bias_per_element ? m * n : n;
      if (bias.length < need) ThrowArgError(op, "bias", "at least " + std::to_string(need) + " elements", std::to_string(bias.length));
      e.bias = bias.as<float>();
      e.bias_per_element = bias_per_element;
    }
    e.activation = ParseActivation(GetString(info, 15, op, "activation"), op);
    e.leaky_alpha = GetNumber(info, 16, op, "leakyAlpha");
    bool prelu_per_element = GetBool(info, 18, op, "preluPerElement");
    if (e.activation == Activation::kPrelu) {
      TensorArg prelu = GetTensor(info, 17, op, "prelu");
      CheckDType(prelu, DType::kFloat32, op, "prelu");
      int64_t need = prelu_per_element ? m * n : n;
      if (prelu.length < need) ThrowArgError(op, "prelu", "at least " + std::to_string(need) + " elements", std::to_string(prelu.length));
      e.prelu_alpha = prelu.as<float>();
      e.prelu_per_element = prelu_per_element;
    }
    const float* ap = a.as<float>();
    const float* bp = b.as<float>();
    float* cp = c.as<float>();
    if (isa_name == "ref") {
      SgemmRef(trans_a, trans_b, m, n, k, ap, lda, bp, ldb, cp, ldc, accumulate, e);
    } else if (isa_name == "auto") {
      Sgemm(trans_a, trans_b, m, n, k, ap, lda, bp, ldb, cp, ldc, accumulate, e);
    } else {
      SgemmIsa(ParseIsa(isa_name, op), trans_a, trans_b, m, n, k, ap, lda, bp, ldb, cp, ldc, accumulate, e);
    }
    return info.Env().Undefined();
  });
}

// gemmLab(variant, transA, transB, m, n, k, a, b, c, kc, mc, nc): one lab variant on tight
// row-major operands (see native/cpu/gemm_lab.h).
Napi::Value GemmLabBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "gemmLab";
    int64_t variant = GetInt(info, 0, op, "variant");
    bool trans_a = GetBool(info, 1, op, "transA");
    bool trans_b = GetBool(info, 2, op, "transB");
    int64_t m = GetInt(info, 3, op, "m");
    int64_t n = GetInt(info, 4, op, "n");
    int64_t k = GetInt(info, 5, op, "k");
    if (m < 0 || n < 0 || k < 0) ThrowArgError(op, "m, n, k", "non-negative sizes", ShapeToString({m, n, k}));
    TensorArg a = GetTensor(info, 6, op, "a");
    TensorArg b = GetTensor(info, 7, op, "b");
    TensorArg c = GetTensor(info, 8, op, "c");
    CheckMatrix(a, trans_a ? k : m, trans_a ? m : k, std::max<int64_t>(trans_a ? m : k, 1), op, "a", "lda");
    CheckMatrix(b, trans_b ? n : k, trans_b ? k : n, std::max<int64_t>(trans_b ? k : n, 1), op, "b", "ldb");
    CheckMatrix(c, m, n, std::max<int64_t>(n, 1), op, "c", "ldc");
    int64_t kc = GetInt(info, 9, op, "kc");
    int64_t mc = GetInt(info, 10, op, "mc");
    int64_t nc = GetInt(info, 11, op, "nc");
    if (kc < 0 || mc < 0 || nc < 0) ThrowArgError(op, "kc, mc, nc", "non-negative block sizes", ShapeToString({kc, mc, nc}));
    GemmLab(static_cast<int>(variant), trans_a, trans_b, m, n, k, a.as<float>(), b.as<float>(), c.as<float>(), kc, mc,
            nc);
    return info.Env().Undefined();
  });
}

Napi::Value GemmLabVariantsBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    std::vector<GemmLabVariant> variants = GemmLabVariants();
    Napi::Array out = Napi::Array::New(info.Env(), variants.size());
    for (size_t i = 0; i < variants.size(); i++) {
      Napi::Object v = Napi::Object::New(info.Env());
      v.Set("name", variants[i].name);
      v.Set("available", variants[i].available);
      out.Set(static_cast<uint32_t>(i), v);
    }
    return out;
  });
}

}  // namespace

void RegisterMatMul(Napi::Env env, Napi::Object exports) {
  exports.Set("matMul", Napi::Function::New(env, MatMulBinding<false>, "matMul"));
  exports.Set("matMulRef", Napi::Function::New(env, MatMulBinding<true>, "matMulRef"));
  exports.Set("sgemm", Napi::Function::New(env, SgemmBinding, "sgemm"));
  exports.Set("gemmLab", Napi::Function::New(env, GemmLabBinding, "gemmLab"));
  exports.Set("gemmLabVariants", Napi::Function::New(env, GemmLabVariantsBinding, "gemmLabVariants"));
}

}  // namespace tessera
