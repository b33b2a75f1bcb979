// Reductions (sum, mean, prod, max, min, all, any, argMax, argMin), softmax, cumulative
// sums and products, and top-k, with tfjs-backend-cpu's semantics: output dtypes, the value
// of an empty reduction, NaN handling, tie-breaking. The native code reads the input in
// place over any set of axes; nothing is transposed.
import { declareCpuOp } from '../device/cpu.js';
import { native } from '../native.js';
import { DeviceArray, empty, type DType } from './array.js';
import { checkArray, checkDType, checkInteger, describe } from './validate.js';

/** The reductions over a set of axes, by tfjs kernel name. */
export const REDUCE_OPS = ['Sum', 'Mean', 'Prod', 'Max', 'Min', 'All', 'Any'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type ArgReduceOp = 'ArgMax' | 'ArgMin';
export type ScanOp = 'Cumsum' | 'Cumprod';
/** An axis argument as tfjs takes it: one axis, several, or null/undefined for every axis. Negative axes count from the end. */
export type AxisArg = number | readonly number[] | null | undefined;

for (const op of [...REDUCE_OPS, 'ArgMax', 'ArgMin', 'Softmax', 'Cumsum', 'Cumprod', 'TopK']) declareCpuOp(op);

const ALL_DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

/** The dtypes each reduction takes natively. */
export function reduceDTypes(op: ReduceOp | ArgReduceOp): readonly DType[] {
  return op === 'All' || op === 'Any' ? ['bool'] : ALL_DTYPES;
}

/** tfjs's output dtype: Sum and Prod give int32 for int32 and bool, Mean float32, ArgMax/ArgMin int32, the rest keep the dtype. */
export function reduceOutputDType(op: ReduceOp | ArgReduceOp, dtype: DType): DType {
  switch (op) {
    case 'Sum':
    case 'Prod':
      return dtype === 'float32' ? 'float32' : 'int32';
    case 'Mean':
      return 'float32';
    case 'ArgMax':
    case 'ArgMin':
      return 'int32';
    default:
      return dtype;
  }
}

/**
 * The axes `axis` names in a tensor of rank `rank`, non-negative, in the order given
 * (tfjs's parseAxisParam), or an error naming `op` for an axis out of [-rank, rank), a
 * non-integer, or an axis named twice.
 */
export function normalizeAxes(op: string, axis: AxisArg, rank: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(list)) throw new Error(`${op}: expected an axis, an array of axes or null for axis but got ${describe(axis)}`);
  const axes: number[] = [];
  for (const a of list) {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`${op}: expected integer axes in [${-rank}, ${rank}) for axis but got ${describe(a)}`);
    }
    const normalized = a < 0 ? a + rank : a;
    if (axes.includes(normalized)) throw new Error(`${op}: expected distinct axes for axis but got axis ${normalized} twice`);
    axes.push(normalized);
  }
  return axes;
}

function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

function checkBoolean(op: string, arg: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new Error(`${op}: expected a boolean for ${arg} but got ${describe(v)}`);
}

function runReduce(op: ReduceOp | ArgReduceOp, x: DeviceArray, axes: number[], keepDims: boolean, reference: boolean): DeviceArray {
  const out = empty(reducedShape(x.shape, axes, keepDims), reduceOutputDType(op, x.dtype), x.device);
  (reference ? native.reduceRef : native.reduce)(op, x.data, x.shape, axes, out.data);
  return out;
}

function checkedReduce(op: ReduceOp, x: DeviceArray, axis: AxisArg, keepDims: boolean, reference: boolean): DeviceArray {
  checkArray(op, 'x', x);
  checkDType(op, 'x', x, reduceDTypes(op));
  checkBoolean(op, 'keepDims', keepDims);
  return runReduce(op, x, normalizeAxes(op, axis, x.shape.length), keepDims, reference);
}

/**
 * Reduces x over `axis` (every axis when null or undefined). Reducing over no elements
 * gives tfjs's value: 0 for Sum, Mean, All and Any, 1 for Prod, NaN (float32) or 0 for Max
 * and Min.
 */
export function reduce(op: ReduceOp, x: DeviceArray, axis?: AxisArg, keepDims = false): DeviceArray {
  return checkedReduce(op, x, axis, keepDims, false);
}

/** The scalar reference of `reduce`, used as the test oracle. */
export function reduceRef(op: ReduceOp, x: DeviceArray, axis?: AxisArg, keepDims = false): DeviceArray {
  return checkedReduce(op, x, axis, keepDims, true);
}

export const sum = (x: DeviceArray, axis?: AxisArg, keepDims = false) => reduce('Sum', x, axis, keepDims);
export const mean = (x: DeviceArray, axis?: AxisArg, keepDims = false) => reduce('Mean', x, axis, keepDims);
export const prod = (x: DeviceArray, axis?: AxisArg, keepDims = false) => reduce('Prod', x, axis, keepDims);
export const max = (x: DeviceArray, axis?: AxisArg, keepDims = false) => reduce('Max', x, axis, keepDims);
export const min = (x: DeviceArray, axis?: AxisArg, keepDims = false) => reduce('Min', x, axis, keepDims);
export const all = (x: DeviceArray, axis?: AxisArg, keepDims = false) => reduce('All', x, axis, keepDims);
export const any = (x: DeviceArray, axis?: AxisArg, keepDims = false) => reduce('Any', x, axis, keepDims);

function checkedArgReduce(op: ArgReduceOp, x: DeviceArray, axis: number, reference: boolean): DeviceArray {
  checkArray(op, 'x', x);
  checkDType(op, 'x', x, reduceDTypes(op));
  if (typeof axis !== 'number') throw new Error(`${op}: expected an integer axis for axis but got ${describe(axis)}`);
  return runReduce(op, x, normalizeAxes(op, axis, x.shape.length), false, reference);
}

/** The int32 index of the largest value along `axis`: the first on ties; a NaN first element wins, later NaNs are skipped (tfjs's `v > max`). */
export function argMax(x: DeviceArray, axis = 0): DeviceArray {
  return checkedArgReduce('ArgMax', x, axis, false);
}
/** As argMax, for the smallest value. */
export function argMin(x: DeviceArray, axis = 0): DeviceArray {
  return checkedArgReduce('ArgMin', x, axis, false);
}
/** The scalar reference of argMax/argMin. */
export function argReduceRef(op: ArgReduceOp, x: DeviceArray, axis = 0): DeviceArray {
  return checkedArgReduce(op, x, axis, true);
}

function checkedSoftmax(logits: DeviceArray, reference: boolean): DeviceArray {
  checkArray('Softmax', 'logits', logits);
  checkDType('Softmax', 'logits', logits, ['float32']);
  if (logits.shape.length === 0) throw new Error('Softmax: expected rank 1 or more for logits but got a scalar');
  const out = empty(logits.shape, 'float32', logits.device);
  (reference ? native.softmaxRef : native.softmax)(logits.data as Float32Array, logits.shape, out.data);
  return out;
}

/** Softmax over the last axis (the only one tfjs supports); within 1 float32 ulp of tfjs-backend-cpu, almost always equal. */
export function softmax(logits: DeviceArray): DeviceArray {
  return checkedSoftmax(logits, false);
}
/** The scalar reference of `softmax` (exp through libm). */
export function softmaxRef(logits: DeviceArray): DeviceArray {
  return checkedSoftmax(logits, true);
}

function checkedScan(op: ScanOp, x: DeviceArray, axis: number, exclusive: boolean, reverse: boolean, reference: boolean): DeviceArray {
  checkArray(op, 'x', x);
  checkDType(op, 'x', x, ALL_DTYPES);
  const rank = x.shape.length;
  checkInteger(op, 'axis', axis);
  if (axis < -rank || axis >= rank) throw new Error(`${op}: expected an axis in [${-rank}, ${rank}) for axis but got ${axis}`);
  checkBoolean(op, 'exclusive', exclusive);
  checkBoolean(op, 'reverse', reverse);
  const out = empty(x.shape, x.dtype === 'float32' ? 'float32' : 'int32', x.device);
  (reference ? native.scanRef : native.scan)(op, x.data, x.shape, axis < 0 ? axis + rank : axis, exclusive, reverse, out.data);
  return out;
}

/** Cumulative sum along `axis`; int32 for int32 and bool inputs. `exclusive` starts from 0, `reverse` runs from the end. */
export function cumsum(x: DeviceArray, axis = 0, exclusive = false, reverse = false): DeviceArray {
  return checkedScan('Cumsum', x, axis, exclusive, reverse, false);
}
/** Cumulative product along `axis`; int32 for int32 and bool inputs. `exclusive` starts from 1. */
export function cumprod(x: DeviceArray, axis = 0, exclusive = false, reverse = false): DeviceArray {
  return checkedScan('Cumprod', x, axis, exclusive, reverse, false);
}
/** The scalar reference of cumsum/cumprod. */
export function scanRef(op: ScanOp, x: DeviceArray, axis = 0, exclusive = false, reverse = false): DeviceArray {
  return checkedScan(op, x, axis, exclusive, reverse, true);
}

function checkedTopK(x: DeviceArray, k: number, sorted: boolean, reference: boolean): { values: DeviceArray; indices: DeviceArray } {
  checkArray('TopK', 'x', x);
  checkDType('TopK', 'x', x, ALL_DTYPES);
  if (x.shape.length === 0) throw new Error('TopK: expected rank 1 or more for x but got a scalar');
  const last = x.shape[x.shape.length - 1];
  checkInteger('TopK', 'k', k, 0);
  if (k > last) throw new Error(`TopK: expected k <= ${last} (the last dimension) for k but got ${k}`);
  checkBoolean('TopK', 'sorted', sorted);
  const shape = [...x.shape.slice(0, -1), k];
  const values = empty(shape, x.dtype, x.device);
  const indices = empty(shape, 'int32', x.device);
  (reference ? native.topKRef : native.topK)(x.data, x.shape, k, sorted, values.data, indices.data);
  return { values, indices };
}

/**
 * The k largest entries along the last axis and their int32 indices, in exactly tfjs's
 * order: largest first when `sorted`, ties by lower index, and NaN placed where
 * tfjs-backend-cpu's selection and V8's sort put it.
 */
export function topK(x: DeviceArray, k = 1, sorted = true): { values: DeviceArray; indices: DeviceArray } {
  return checkedTopK(x, k, sorted, false);
}
/** The reference of `topK` for rows without NaN or repeated infinities: a stable sort of the whole row. */
export function topKRef(x: DeviceArray, k = 1): { values: DeviceArray; indices: DeviceArray } {
  return checkedTopK(x, k, true, true);
}
