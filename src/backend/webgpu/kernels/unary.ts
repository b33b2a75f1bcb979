// Elementwise unary kernels and activations (kernels/wgsl/unary.wgsl, unary_math.wgsl), four
// elements per invocation. Semantics follow tfjs-backend-cpu, which computes each element in
// JS doubles and stores it in the output's typed array: output dtypes as tfjs gives them
// (Exp and LeakyRelu float32, IsNan/IsInf/IsFinite/LogicalNot bool, the rest the input's),
// NaN, infinities and signed zeros as JS Math (see unary_math.wgsl).
//
// int32 inputs run on the GPU where the int32 result can be had exactly: Neg, Sign, the
// roundings, Relu, Sqrt as an integer square root, Abs and Square rounded through float32 as
// tfjs-backend-cpu's Float32Array rounds them, and the ops whose truncated result takes only
// a few values (Sigmoid, Tanh, Erf, Rsqrt, Reciprocal, Elu, Softplus). The other float
// functions of int32 (Log, Sin, Selu, ...: the double result truncated, which a float32
// evaluation can put on the wrong side of an integer) and every arithmetic op of bool run on
// tessera-cpu, as do attributes that are not numbers.
import type { DataType, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslType } from '../wgsl.js';
import { mathSource } from './binary.js';

type WgslType = 'f32' | 'i32' | 'u32';

/**
 * An op's body per input type; `out`: the output dtype when it is not the input's; `attrs`:
 * packs the op's attributes after the size (null when they are not numbers).
 */
interface UnaryBody {
  f32?: string;
  i32?: string;
  u32?: string;
  out?: 'bool' | 'float32';
  attrs?: (attrs: NamedAttrMap, type: WgslType, meta: Meta) => boolean;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

const isNumber = (v: unknown): v is number => typeof v === 'number';

/** alpha as f32, or as the int32 an Int32Array stores for it. */
function alphaAttr(attrs: NamedAttrMap, type: WgslType, meta: Meta): boolean {
  const alpha = attrs.alpha;
  if (!isNumber(alpha)) return false;
  if (type === 'i32') meta.i32(alpha);
  else meta.f32(alpha);
  return true;
}

/**
 * ClipByValue's bounds. float32: the bounds rounded to float32 (x > max in doubles and
 * x > fround(max) agree for a float32 x, and the stored value is fround(max) either way).
 * int32: x > max holds exactly when x >= floor(max) + 1, and x < min when x <= ceil(min) - 1;
 * the thresholds clamped to int32 with a flag for "never", and the stored bounds as an
 * Int32Array stores them.
 */
function clipAttrs(attrs: NamedAttrMap, type: WgslType, meta: Meta): boolean {
  const { clipValueMin: lo, clipValueMax: hi } = attrs;
  if (!isNumber(lo) || !isNumber(hi)) return false;
  if (type !== 'i32') {
    meta.f32(lo, hi);
    return true;
  }
  const below = Math.ceil(lo) - 1; // x < lo  <=>  x <= below
  const above = Math.floor(hi) + 1; // x > hi  <=>  x >= above
  const loNever = Number.isNaN(lo) || below < INT_MIN;
  const hiNever = Number.isNaN(hi) || above > INT_MAX;
  meta.i32(loNever ? 0 : Math.min(below, INT_MAX), hiNever ? 0 : Math.max(above, INT_MIN), lo, hi);
  meta.u32(loNever ? 1 : 0, hiNever ? 1 : 0);
  return true;
}

const BODIES: Record<string, UnaryBody> = {
  // int32 Abs and Square: tfjs-backend-cpu writes them through a Float32Array (absI, squareI).
  Abs: { f32: 'return absF(x);', i32: 'return absI(x);' },
  Neg: { f32: 'return -x;', i32: 'return -x;' },
  Square: { f32: 'return x * x;', i32: 'return squareI(x);' },
  Sign: { f32: 'if (x > 0.0) { return 1.0; } if (x < 0.0) { return -1.0; } return 0.0;', i32: 'return sign(x);' },
  Floor: { f32: 'if (!isFiniteF(x)) { return x; } return floor(x);', i32: 'return x;' },
  Ceil: { f32: 'if (!isFiniteF(x)) { return x; } return ceil(x);', i32: 'return x;' },
  // WGSL's round() rounds halves to even: tfjs's banker's rounding.
  Round: { f32: 'if (!isFiniteF(x)) { return x; } return round(x);', i32: 'return x;' },
  Exp: { f32: 'return expF(x);', i32: 'return expF(f32(x));', out: 'float32' },
  Expm1: { f32: 'return expm1F(x);' },
  Log: { f32: 'return logF(x);' },
  Log1p: { f32: 'return log1pF(x);' },
  Sqrt: { f32: 'return sqrtF(x);', i32: 'return isqrtI(x);' },
  // 1 / Math.sqrt(x): -0 gives -Infinity, +Inf gives 0. int32: only 1 stays above 0.
  Rsqrt: {
    f32: 'if (isNan(x) || x < 0.0) { return nan(); } if (x == 0.0) { return sgn1(x) * inf(); } if (isInfF(x)) { return 0.0; } return 1.0 / sqrt(x);',
    i32: 'return select(0, 1, x == 1);',
  },
  Reciprocal: { f32: 'return divF(1.0, x);', i32: 'if (x == 1 || x == -1) { return x; } return 0;' },
  Sin: { f32: 'return sinCosF(x, 0u);' },
  Cos: { f32: 'return sinCosF(x, 1u);' },
  Tan: { f32: 'return tanF(x);' },
  Asin: { f32: 'return asinF(x);' },
  Acos: { f32: 'return acosF(x);' },
  Atan: { f32: 'return atanF(x);' },
  Sinh: { f32: 'return sinhF(x);' },
  Cosh: { f32: 'return coshF(x);' },
  // int32: Math.tanh of an integer is +-1 in doubles from |x| = 20 on, and truncates to 0 below.
  Tanh: { f32: 'return tanhF(x);', i32: 'if (x >= 20) { return 1; } if (x <= -20) { return -1; } return 0;' },
  Asinh: { f32: 'return asinhF(x);' },
  Acosh: { f32: 'return acoshF(x);' },
  Atanh: { f32: 'return atanhF(x);' },
  // int32: tfjs's erf approximation reaches 1 in doubles from |x| = 6 on.
  Erf: { f32: 'return erfF(x);', i32: 'if (x >= 6) { return 1; } if (x <= -6) { return -1; } return 0;' },
  // int32: 1 / (1 + e^-x) is 1 in doubles from x = 37 on, and truncates to 0 below.
  Sigmoid: { f32: 'return sigmoidF(x);', i32: 'return select(0, 1, x >= 37);' },
  // int32: x itself past 13.94, log(1 + e^x) in (x, x + 0.7) below: truncates to max(x, 0).
  Softplus: { f32: 'return softplusF(x);', i32: 'return max(x, 0);' },
  Relu: { f32: 'if (isNan(x)) { return x; } return max(x, 0.0);', i32: 'return max(x, 0);' },
  Relu6: { f32: 'if (isNan(x)) { return x; } return min(max(x, 0.0), 6.0);', i32: 'return clamp(x, 0, 6);' },
  // int32: e^x - 1 of a negative integer is in (-1, 0), which stores 0, until the doubles
  // round it to -1 (from x = -38 on).
  Elu: { f32: 'if (x >= 0.0) { return x; } return expm1F(x);', i32: 'if (x >= 0) { return x; } return select(0, -1, x <= -38);' },
  Selu: { f32: 'if (x >= 0.0) { return 1.0507009873554805 * x; } return 1.7580993408473768 * expm1F(x);' },
  LeakyRelu: {
    f32: 'return select(x, mf(1u) * x, x < 0.0);',
    i32: 'let f = f32(x); return select(f, mf(1u) * f, x < 0);',
    out: 'float32',
    attrs: (attrs, _type, meta) => isNumber(attrs.alpha) && (meta.f32(attrs.alpha), true),
  },
  Step: {
    f32: 'if (isNan(x)) { return x; } return select(mf(1u), 1.0, x > 0.0);',
    i32: 'return select(mi(1u), 1, x > 0);',
    attrs: alphaAttr,
  },
  ClipByValue: {
    f32: 'if (x > mf(2u)) { return mf(2u); } if (x < mf(1u)) { return mf(1u); } return x;',
    i32: 'if (m(6u) == 0u && x >= mi(2u)) { return mi(4u); } if (m(5u) == 0u && x <= mi(1u)) { return mi(3u); } return x;',
    attrs: clipAttrs,
  },
  IsNan: { f32: 'return u32(isNan(x));', i32: 'return 0u;', u32: 'return 0u;', out: 'bool' },
  IsInf: { f32: 'return u32(isInfF(x));', i32: 'return 0u;', u32: 'return 0u;', out: 'bool' },
  IsFinite: { f32: 'return u32(isFiniteF(x));', i32: 'return 1u;', u32: 'return 1u;', out: 'bool' },
  LogicalNot: { u32: 'return u32(x == 0u);', out: 'bool' },
};

/**
 * Runs op(x) elementwise (vec4) from `inType` to `outDtype`; `meta` holds the attributes
 * after word 0, which this fills with the number of vec4s. `key` names the program.
 */
export function runUnary(backend: TesseraWebGpuBackend, key: string, body: string, x: TensorInfo, outDtype: DataType, attrs: Meta | null = null): TensorInfo {
  const size = util.sizeFromShape(x.shape);
  const n4 = Math.ceil(size / 4);
  const meta = new Meta().u32(n4);
  const words = attrs?.build() ?? new Uint32Array(0);
  meta.u32(...Array.from(words.subarray(0, attrs?.length ?? 0)));
  const type = wgslType(x.dtype);
  const outType = wgslType(outDtype);
  const program = templateProgram(`unary/${key}/${type}`, 'unary', 2, meta.length, {
    T: type, OUT_T: outType, OP: body, MATH: mathSource(body),
  });
  return backend.runProgram(program, [x], x.shape, outDtype, meta.build(), workgroupsFor(n4, 256));
}

function unaryConfig(kernelName: string, body: UnaryBody): KernelConfig {
  return gpuKernelConfig(kernelName, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return null;
    const type = wgslType(x.dtype);
    const opBody = body[type];
    if (opBody === undefined) return null;
    let extra: Meta | null = null;
    if (body.attrs !== undefined) {
      extra = new Meta();
      if (!body.attrs(attrs ?? {}, type, extra)) return null;
    }
    const outDtype: DataType = body.out ?? x.dtype;
    return runUnary(backend, kernelName, opBody, x, outDtype, extra);
  });
}

export const unaryKernelConfigs: KernelConfig[] = Object.entries(BODIES).map(([name, body]) => unaryConfig(name, body));
