// Unary elementwise kernels and activations, with the kernels around them: Cast, Fill,
// ZerosLike, OnesLike, Select, AddN, Prelu and EluGrad. Semantics are tfjs-backend-cpu's,
// dtypes included (Abs of int32 stays int32, Exp and LeakyRelu give float32, IsNan gives bool).
import { cpu, declareCpuOp } from '../device/cpu.js';
import type { Device } from '../device/device.js';
import { native } from '../native.js';
import { DeviceArray, empty, sameShape, type DType } from './array.js';
import { broadcastShapes, checkArray, checkDType, describe } from './validate.js';

/** The tfjs kernel names of the one-input elementwise ops. */
export const UNARY_OPS = [
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'Cos', 'Cosh', 'Erf', 'Exp', 'Expm1', 'Floor',
  'IsFinite', 'IsInf', 'IsNan', 'Log', 'Log1p', 'LogicalNot', 'Neg', 'Reciprocal', 'Round', 'Rsqrt', 'Sign', 'Sin',
  'Sinh', 'Sqrt', 'Square', 'Tan', 'Tanh', 'Step', 'ClipByValue', 'Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Selu',
  'Sigmoid', 'Softplus',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Step and LeakyRelu read alpha; ClipByValue reads the bounds (tfjs's attribute names). */
export interface UnaryAttrs {
  alpha?: number;
  clipValueMin?: number;
  clipValueMax?: number;
}

for (const op of [...UNARY_OPS, 'Cast', 'Fill', 'ZerosLike', 'OnesLike', 'Select', 'AddN', 'Prelu', 'EluGrad']) declareCpuOp(op);

const UNARY_OP_SET = new Set<string>(UNARY_OPS);
const BOOL_OUTPUT = new Set<string>(['IsFinite', 'IsInf', 'IsNan', 'LogicalNot']);
const FLOAT_OUTPUT = new Set<string>(['Exp', 'LeakyRelu']);
const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

/** The dtype tfjs gives `op`'s output for an input of `dtype`. */
export function unaryOutDType(op: UnaryOp, dtype: DType): DType {
  return BOOL_OUTPUT.has(op) ? 'bool' : FLOAT_OUTPUT.has(op) ? 'float32' : dtype;
}

/** tfjs's upcast of two dtypes (the output dtype of Select). */
export function upcastDType(a: DType, b: DType): DType {
  return a === 'float32' || b === 'float32' ? 'float32' : a === 'int32' || b === 'int32' ? 'int32' : 'bool';
}

function checkNumber(op: string, arg: string, v: unknown): asserts v is number {
  if (typeof v !== 'number') throw new Error(`${op}: expected a number for ${arg} but got ${v === undefined ? 'undefined' : describe(v)}`);
}

function checkDTypeName(op: string, dtype: unknown): asserts dtype is DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new Error(`${op}: expected one of float32, int32, bool for dtype but got ${JSON.stringify(dtype)}`);
  }
}

function runUnary(op: UnaryOp, x: DeviceArray, attrs: UnaryAttrs, reference: boolean): DeviceArray {
  if (!UNARY_OP_SET.has(op)) throw new Error(`unary: expected a unary op name (${UNARY_OPS.join(', ')}) for op but got ${describe(op)}`);
  checkArray(op, 'x', x);
  let attr0 = 0;
  let attr1 = 0;
  if (op === 'Step' || op === 'LeakyRelu') {
    checkNumber(op, 'alpha', attrs.alpha);
    attr0 = attrs.alpha;
  } else if (op === 'ClipByValue') {
    checkNumber(op, 'clipValueMin', attrs.clipValueMin);
    checkNumber(op, 'clipValueMax', attrs.clipValueMax);
    attr0 = attrs.clipValueMin;
    attr1 = attrs.clipValueMax;
  }
  const out = empty(x.shape, unaryOutDType(op, x.dtype), x.device);
  (reference ? native.unaryRef : native.unary)(op, x.data, out.data, attr0, attr1);
  return out;
}

/** Applies the unary kernel `op` (a tfjs kernel name) to x. */
export function unary(op: UnaryOp, x: DeviceArray, attrs: UnaryAttrs = {}): DeviceArray {
  return runUnary(op, x, attrs, false);
}

/** The scalar reference of `unary`, used as the test oracle. */
export function unaryRef(op: UnaryOp, x: DeviceArray, attrs: UnaryAttrs = {}): DeviceArray {
  return runUnary(op, x, attrs, true);
}

export const abs = (x: DeviceArray) => unary('Abs', x);
export const acos = (x: DeviceArray) => unary('Acos', x);
export const acosh = (x: DeviceArray) => unary('Acosh', x);
export const asin = (x: DeviceArray) => unary('Asin', x);
export const asinh = (x: DeviceArray) => unary('Asinh', x);
export const atan = (x: DeviceArray) => unary('Atan', x);
export const atanh = (x: DeviceArray) => unary('Atanh', x);
export const ceil = (x: DeviceArray) => unary('Ceil', x);
export const cos = (x: DeviceArray) => unary('Cos', x);
export const cosh = (x: DeviceArray) => unary('Cosh', x);
export const erf = (x: DeviceArray) => unary('Erf', x);
export const exp = (x: DeviceArray) => unary('Exp', x);
export const expm1 = (x: DeviceArray) => unary('Expm1', x);
export const floor = (x: DeviceArray) => unary('Floor', x);
export const isFinite = (x: DeviceArray) => unary('IsFinite', x);
export const isInf = (x: DeviceArray) => unary('IsInf', x);
export const isNaN = (x: DeviceArray) => unary('IsNan', x);
export const log = (x: DeviceArray) => unary('Log', x);
export const log1p = (x: DeviceArray) => unary('Log1p', x);
export const logicalNot = (x: DeviceArray) => unary('LogicalNot', x);
export const neg = (x: DeviceArray) => unary('Neg', x);
export const reciprocal = (x: DeviceArray) => unary('Reciprocal', x);
/** Banker's rounding (half to even), as tfjs's Round. */
export const round = (x: DeviceArray) => unary('Round', x);
export const rsqrt = (x: DeviceArray) => unary('Rsqrt', x);
export const sign = (x: DeviceArray) => unary('Sign', x);
export const sin = (x: DeviceArray) => unary('Sin', x);
export const sinh = (x: DeviceArray) => unary('Sinh', x);
export const sqrt = (x: DeviceArray) => unary('Sqrt', x);
export const square = (x: DeviceArray) => unary('Square', x);
export const tan = (x: DeviceArray) => unary('Tan', x);
export const tanh = (x: DeviceArray) => unary('Tanh', x);
/** x > 0 ? 1 : alpha (NaN stays NaN). */
export const step = (x: DeviceArray, alpha = 0) => unary('Step', x, { alpha });
/** tfjs's ClipByValue kernel: x > max ? max : x < min ? min : x (NaN passes through). */
export const clipByValue = (x: DeviceArray, clipValueMin: number, clipValueMax: number) =>
  unary('ClipByValue', x, { clipValueMin, clipValueMax });
export const relu = (x: DeviceArray) => unary('Relu', x);
export const relu6 = (x: DeviceArray) => unary('Relu6', x);
export const leakyRelu = (x: DeviceArray, alpha = 0.2) => unary('LeakyRelu', x, { alpha });
export const elu = (x: DeviceArray) => unary('Elu', x);
export const selu = (x: DeviceArray) => unary('Selu', x);
export const sigmoid = (x: DeviceArray) => unary('Sigmoid', x);
export const softplus = (x: DeviceArray) => unary('Softplus', x);

function runCast(x: DeviceArray, dtype: DType, reference: boolean): DeviceArray {
  checkArray('Cast', 'x', x);
  checkDTypeName('Cast', dtype);
  const out = empty(x.shape, dtype, x.device);
  (reference ? native.castRef : native.cast)(x.data, out.data);
  return out;
}

/**
 * x converted to `dtype` as tfjs's Cast converts (to int32: truncation with ECMAScript
 * ToInt32 wrapping, NaN and ±Inf to 0; to bool: x != 0, so NaN is true). Always a new array,
 * also when the dtype does not change.
 */
export function cast(x: DeviceArray, dtype: DType): DeviceArray {
  return runCast(x, dtype, false);
}

export function castRef(x: DeviceArray, dtype: DType): DeviceArray {
  return runCast(x, dtype, true);
}

function runFill(shape: readonly number[], value: number | boolean, dtype: DType, device: Device, reference: boolean): DeviceArray {
  if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new Error(`Fill: expected a number or boolean for value but got ${describe(value)}`);
  }
  checkDTypeName('Fill', dtype);
  const out = empty(shape, dtype, device);
  (reference ? native.fillRef : native.fill)(out.data, Number(value));
  return out;
}

/** An array of `shape` holding `value` converted to `dtype` as a typed array stores it. */
export function fill(shape: readonly number[], value: number | boolean, dtype: DType = 'float32', device: Device = cpu): DeviceArray {
  return runFill(shape, value, dtype, device, false);
}

export function fillRef(shape: readonly number[], value: number | boolean, dtype: DType = 'float32', device: Device = cpu): DeviceArray {
  return runFill(shape, value, dtype, device, true);
}

export function zerosLike(x: DeviceArray): DeviceArray {
  checkArray('ZerosLike', 'x', x);
  return fill(x.shape, 0, x.dtype, x.device);
}

export function onesLike(x: DeviceArray): DeviceArray {
  checkArray('OnesLike', 'x', x);
  return fill(x.shape, 1, x.dtype, x.device);
}

function runSelect(condition: DeviceArray, t: DeviceArray, e: DeviceArray, reference: boolean): DeviceArray {
  checkArray('Select', 'condition', condition);
  checkArray('Select', 't', t);
  checkArray('Select', 'e', e);
  checkDType('Select', 'condition', condition, ['bool']);
  if (!sameShape(t.shape, e.shape)) {
    throw new Error(`Select: expected shape [${t.shape}] (that of t) for e but got [${e.shape}]`);
  }
  const rowSelect = condition.shape.length === 1 && t.shape.length > 1 && condition.shape[0] === t.shape[0];
  if (!rowSelect && !sameShape(condition.shape, t.shape)) {
    throw new Error(
      `Select: expected shape [${t.shape}] or [${t.shape.slice(0, 1)}] (t's shape or its first dimension) for condition but got [${condition.shape}]`);
  }
  const out = empty(t.shape, upcastDType(t.dtype, e.dtype), t.device);
  (reference ? native.selectRef : native.select)(condition.data as Uint8Array, t.data, e.data, out.data);
  return out;
}

/**
 * condition ? t : e elementwise. condition has t's shape, or is a vector over t's first
 * dimension that picks whole rows (TensorFlow's Select). t and e have one shape; the output
 * has their upcast dtype.
 */
export function select(condition: DeviceArray, t: DeviceArray, e: DeviceArray): DeviceArray {
  return runSelect(condition, t, e, false);
}

export function selectRef(condition: DeviceArray, t: DeviceArray, e: DeviceArray): DeviceArray {
  return runSelect(condition, t, e, true);
}

function runAddN(xs: readonly DeviceArray[], reference: boolean): DeviceArray {
  if (!Array.isArray(xs) || xs.length === 0) {
    throw new Error(`AddN: expected a non-empty array of DeviceArrays for inputs but got ${Array.isArray(xs) ? 'an empty array' : describe(xs)}`);
  }
  xs.forEach((x, i) => checkArray('AddN', `inputs[${i}]`, x));
  const first = xs[0];
  checkDType('AddN', 'inputs[0]', first, ['float32', 'int32']);
  xs.forEach((x, i) => {
    if (x.dtype !== first.dtype) throw new Error(`AddN: expected dtype ${first.dtype} (that of inputs[0]) for inputs[${i}] but got ${x.dtype}`);
    if (!sameShape(x.shape, first.shape)) {
      throw new Error(`AddN: expected shape [${first.shape}] (that of inputs[0]) for inputs[${i}] but got [${x.shape}]`);
    }
  });
  const out = empty(first.shape, first.dtype, first.device);
  (reference ? native.addNRef : native.addN)(out.data, ...xs.map((x) => x.data));
  return out;
}

/** The elementwise sum of arrays of one shape and dtype, added left to right from 0. */
export function addN(xs: readonly DeviceArray[]): DeviceArray {
  return runAddN(xs, false);
}

export function addNRef(xs: readonly DeviceArray[]): DeviceArray {
  return runAddN(xs, true);
}

function runPrelu(x: DeviceArray, alpha: DeviceArray, reference: boolean): DeviceArray {
  checkArray('Prelu', 'x', x);
  checkArray('Prelu', 'alpha', alpha);
  const shape = broadcastShapes('Prelu', x.shape, alpha.shape);
  const out = empty(shape, 'float32', x.device);
  (reference ? native.preluRef : native.prelu)(x.data, x.shape, alpha.data, alpha.shape, out.data);
  return out;
}

/** x < 0 ? alpha * x : x, with alpha broadcast against x; float32 whatever the input dtypes. */
export function prelu(x: DeviceArray, alpha: DeviceArray): DeviceArray {
  return runPrelu(x, alpha, false);
}

export function preluRef(x: DeviceArray, alpha: DeviceArray): DeviceArray {
  return runPrelu(x, alpha, true);
}

function runEluGrad(dy: DeviceArray, y: DeviceArray, reference: boolean): DeviceArray {
  checkArray('EluGrad', 'dy', dy);
  checkArray('EluGrad', 'y', y);
  checkDType('EluGrad', 'dy', dy, ['float32']);
  checkDType('EluGrad', 'y', y, ['float32']);
  if (!sameShape(dy.shape, y.shape)) throw new Error(`EluGrad: expected shape [${dy.shape}] (that of dy) for y but got [${y.shape}]`);
  const out = empty(dy.shape, 'float32', dy.device);
  (reference ? native.eluGradRef : native.eluGrad)(dy.data as Float32Array, y.data as Float32Array, out.data);
  return out;
}

/** The gradient of Elu from its output y: y >= 0 ? dy : dy * (y + 1). */
export function eluGrad(dy: DeviceArray, y: DeviceArray): DeviceArray {
  return runEluGrad(dy, y, false);
}

export function eluGradRef(dy: DeviceArray, y: DeviceArray): DeviceArray {
  return runEluGrad(dy, y, true);
}
