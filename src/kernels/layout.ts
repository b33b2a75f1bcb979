// Data-movement kernels: reshape (a view), transpose, concat/stack, split/unstack, slice,
// stridedSlice, pad, mirrorPad, tile, reverse, gather, gatherNd, oneHot. Each validates here,
// allocates its output with empty() and lets native code move the elements; each `<name>Ref`
// runs the native scalar reference instead (the test oracle).
import { slice_util } from '@tensorflow/tfjs-core';

import { declareCpuOp } from '../device/cpu.js';
import { native, type NativeArray } from '../native.js';
import { DeviceArray, empty, sizeOf, type DType } from './array.js';
import { checkArray, checkDType, checkInteger, checkSameDType, describe } from './validate.js';

for (const op of [
  'Reshape', 'Identity', 'ExpandDims', 'Transpose', 'Concat', 'Pack', 'Unpack', 'SplitV', 'Slice', 'StridedSlice',
  'PadV2', 'MirrorPad', 'Tile', 'Reverse', 'GatherV2', 'GatherNd', 'OneHot',
]) {
  declareCpuOp(op);
}

type Impl = 'fast' | 'ref';

/** Runs `fill` on freshly allocated outputs and returns them, freeing them if it throws. */
function produce<T extends DeviceArray | DeviceArray[]>(outs: T, fill: () => void): T {
  try {
    fill();
  } catch (e) {
    for (const o of [outs].flat()) o.dispose();
    throw e;
  }
  return outs;
}

function checkIntegers(op: string, arg: string, v: unknown, min = -Infinity): asserts v is number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isInteger(d) && d >= min)) {
    const what = min === 0 ? 'non-negative integers' : 'integers';
    throw new Error(`${op}: expected an array of ${what} for ${arg} but got ${Array.isArray(v) ? `[${v}]` : describe(v)}`);
  }
}

/** An axis in [-rank, rank) (or [-rank-1, rank] with `extra`), made non-negative. */
function normalizeAxis(op: string, arg: string, axis: unknown, rank: number, extra = 0): number {
  const lo = -rank - extra;
  const hi = rank + extra;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < lo || axis >= hi) {
    throw new Error(`${op}: expected an integer in [${lo}, ${hi}) for ${arg} but got ${describe(axis)}`);
  }
  return axis < 0 ? axis + hi : axis;
}

// ---------------------------------------------------------------------------------------
// Views

/** Resolves a single -1 in `shape` from `size` elements (tfjs's inferFromImplicitShape). */
function resolveShape(op: string, shape: unknown, size: number): number[] {
  checkIntegers(op, 'shape', shape, -1);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`${op}: expected at most one -1 for shape but got [${shape}]`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const resolved = unknown === 1 && known > 0 && size % known === 0 ? shape.map((d) => (d === -1 ? size / known : d)) : shape;
  if (resolved.includes(-1) || sizeOf(resolved) !== size) {
    throw new Error(`${op}: expected a shape of ${size} elements for shape but got [${shape}]`);
  }
  return resolved;
}

/**
 * x with another shape of the same size (one entry may be -1). No copy: the result views x's
 * buffer, owns nothing, and is valid only while x is.
 */
export function reshape<D extends DType>(x: DeviceArray<D>, shape: readonly number[]): DeviceArray<D> {
  checkArray('reshape', 'x', x);
  return new DeviceArray(x.data, resolveShape('reshape', shape, x.size), x.dtype, x.device, false);
}

/** x with a dimension of size 1 inserted at `axis` (in [-rank-1, rank]); a view like reshape's. */
export function expandDims<D extends DType>(x: DeviceArray<D>, axis = 0): DeviceArray<D> {
  checkArray('expandDims', 'x', x);
  const at = normalizeAxis('expandDims', 'axis', axis, x.shape.length, 1);
  const shape = [...x.shape];
  shape.splice(at, 0, 1);
  return new DeviceArray(x.data, shape, x.dtype, x.device, false);
}

// ---------------------------------------------------------------------------------------
// Permutations

function transposeWith(impl: Impl, x: DeviceArray, perm?: readonly number[]): DeviceArray {
  checkArray('transpose', 'x', x);
  const rank = x.shape.length;
  const p = perm ?? x.shape.map((_, i) => rank - 1 - i);
  checkIntegers('transpose', 'perm', p, 0);
  if (p.length !== rank || new Set(p).size !== rank || p.some((a) => a >= rank)) {
    throw new Error(`transpose: expected a permutation of [0..${rank - 1}] for perm but got [${p}]`);
  }
  const out = empty(p.map((a) => x.shape[a]), x.dtype, x.device);
  return produce(out, () => (impl === 'fast' ? native.transpose : native.transposeRef)(x.data, x.shape, p, out.data));
}

/** Permutes x's dimensions: out.shape[i] = x.shape[perm[i]] (default: reversed). */
export const transpose = (x: DeviceArray, perm?: readonly number[]) => transposeWith('fast', x, perm);
export const transposeRef = (x: DeviceArray, perm?: readonly number[]) => transposeWith('ref', x, perm);

function reverseWith(impl: Impl, x: DeviceArray, axes: number | readonly number[]): DeviceArray {
  checkArray('reverse', 'x', x);
  const list = typeof axes === 'number' ? [axes] : axes;
  checkIntegers('reverse', 'axes', list);
  const normalized = list.map((a) => normalizeAxis('reverse', 'axes', a, x.shape.length));
  const out = empty(x.shape, x.dtype, x.device);
  return produce(out, () => (impl === 'fast' ? native.reverse : native.reverseRef)(x.data, x.shape, normalized, out.data));
}

/** Reverses x along `axes` (negative counts from the end). As in tfjs, an axis listed twice is flipped twice. */
export const reverse = (x: DeviceArray, axes: number | readonly number[]) => reverseWith('fast', x, axes);
export const reverseRef = (x: DeviceArray, axes: number | readonly number[]) => reverseWith('ref', x, axes);

// ---------------------------------------------------------------------------------------
// Joining and splitting

/** Every array's shape equals the first one's, except along `axis` when one is given. */
function checkSameShapes(op: string, xs: readonly DeviceArray[], axis?: number): void {
  const first = xs[0].shape;
  xs.forEach((x, k) => {
    if (x.shape.length !== first.length || x.shape.some((d, i) => i !== axis && d !== first[i])) {
      const expected = axis === undefined ? `shape [${first}] (that of xs[0])` : `shape [${first}] except in axis ${axis}`;
      throw new Error(`${op}: expected ${expected} for xs[${k}] but got [${x.shape}]`);
    }
  });
}

function checkArrays(op: string, xs: unknown): asserts xs is DeviceArray[] {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error(`${op}: expected a non-empty array of DeviceArrays for xs but got ${describe(xs)}`);
  xs.forEach((x, k) => checkArray(op, `xs[${k}]`, x));
  xs.forEach((x, k) => checkSameDType(op, xs[0], x, `xs[${k}]`));
}

function concatWith(impl: Impl, xs: readonly DeviceArray[], axis: number): DeviceArray {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
  const out = empty(shape, xs[0].dtype, xs[0].device);
  return produce(out, () => (impl === 'fast' ? native.concat : native.concatRef)(xs.map((x) => x.data), xs.map((x) => x.shape), axis, out.data));
}

function concatChecked(impl: Impl, xs: readonly DeviceArray[], axis = 0): DeviceArray {
  checkArrays('concat', xs);
  if (xs[0].shape.length === 0) throw new Error('concat: expected arrays of rank 1 or more for xs but got scalars');
  const at = normalizeAxis('concat', 'axis', axis, xs[0].shape.length);
  checkSameShapes('concat', xs, at);
  return concatWith(impl, xs, at);
}

/** Joins arrays of one dtype along `axis`; they must agree in every other dimension. */
export const concat = (xs: readonly DeviceArray[], axis = 0) => concatChecked('fast', xs, axis);
export const concatRef = (xs: readonly DeviceArray[], axis = 0) => concatChecked('ref', xs, axis);

function stackWith(impl: Impl, xs: readonly DeviceArray[], axis = 0): DeviceArray {
  checkArrays('stack', xs);
  checkSameShapes('stack', xs);
  const at = normalizeAxis('stack', 'axis', axis, xs[0].shape.length, 1);
  const expanded = xs.map((x) => expandDims(x, at));
  return concatWith(impl, expanded, at);
}

/** Stacks arrays of one shape and dtype along a new dimension at `axis` (tfjs's Pack). */
export const stack = (xs: readonly DeviceArray[], axis = 0) => stackWith('fast', xs, axis);
export const stackRef = (xs: readonly DeviceArray[], axis = 0) => stackWith('ref', xs, axis);

function splitWith(impl: Impl, x: DeviceArray, axis: number, sizes: readonly number[], keepAxis: boolean): DeviceArray[] {
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    if (keepAxis) shape[axis] = s;
    else shape.splice(axis, 1);
    return empty(shape, x.dtype, x.device);
  });
  return produce(outs, () => (impl === 'fast' ? native.split : native.splitRef)(x.data, x.shape, axis, sizes, outs.map((o) => o.data)));
}

function splitChecked(impl: Impl, x: DeviceArray, numOrSizeSplits: number | readonly number[], axis = 0): DeviceArray[] {
  checkArray('split', 'x', x);
  const at = normalizeAxis('split', 'axis', axis, x.shape.length);
  const dim = x.shape[at];
  let sizes: number[];
  if (typeof numOrSizeSplits === 'number') {
    checkInteger('split', 'numOrSizeSplits', numOrSizeSplits, 1);
    if (dim % numOrSizeSplits !== 0) {
      throw new Error(`split: expected a divisor of ${dim} (the size of axis ${at}) for numOrSizeSplits but got ${numOrSizeSplits}`);
    }
    sizes = new Array<number>(numOrSizeSplits).fill(dim / numOrSizeSplits);
  } else {
    checkIntegers('split', 'numOrSizeSplits', numOrSizeSplits, -1);
    // As in tfjs, one entry may be -1: whatever the others leave.
    const unknown = numOrSizeSplits.filter((s) => s === -1).length;
    const known = numOrSizeSplits.reduce((n, s) => (s === -1 ? n : n + s), 0);
    sizes = numOrSizeSplits.map((s) => (s === -1 ? dim - known : s));
    if (unknown > 1 || sizes.some((s) => s < 0) || sizes.reduce((n, s) => n + s, 0) !== dim) {
      throw new Error(`split: expected sizes adding up to ${dim} (the size of axis ${at}) for numOrSizeSplits but got [${numOrSizeSplits}]`);
    }
  }
  return splitWith(impl, x, at, sizes, true);
}

/** Splits x along `axis` into n equal parts or parts of the given sizes (one may be -1): tfjs's SplitV. */
export const split = (x: DeviceArray, numOrSizeSplits: number | readonly number[], axis = 0) => splitChecked('fast', x, numOrSizeSplits, axis);
export const splitRef = (x: DeviceArray, numOrSizeSplits: number | readonly number[], axis = 0) => splitChecked('ref', x, numOrSizeSplits, axis);

function unstackWith(impl: Impl, x: DeviceArray, axis = 0): DeviceArray[] {
  checkArray('unstack', 'x', x);
  const at = normalizeAxis('unstack', 'axis', axis, x.shape.length);
  return splitWith(impl, x, at, new Array<number>(x.shape[at]).fill(1), false);
}

/** The x.shape[axis] slices of x along `axis`, each without that dimension (tfjs's Unpack). */
export const unstack = (x: DeviceArray, axis = 0) => unstackWith('fast', x, axis);
export const unstackRef = (x: DeviceArray, axis = 0) => unstackWith('ref', x, axis);

// ---------------------------------------------------------------------------------------
// Slices

function sliceWith(impl: Impl, x: DeviceArray, begin: number | readonly number[], size?: number | readonly number[]): DeviceArray {
  checkArray('slice', 'x', x);
  const rank = x.shape.length;
  // tfjs's parseSliceParams: a number stands for the first dimension (the rest from 0, whole).
  const b = typeof begin === 'number' ? [begin, ...new Array<number>(Math.max(0, rank - 1)).fill(0)] : [...begin];
  const s = size === undefined ? new Array<number>(rank).fill(-1) : typeof size === 'number' ? [size, ...new Array<number>(Math.max(0, rank - 1)).fill(-1)] : [...size];
  checkIntegers('slice', 'begin', b, 0);
  checkIntegers('slice', 'size', s, -1);
  if (b.length !== rank) throw new Error(`slice: expected ${rank} entries for begin but got [${b}]`);
  if (s.length !== rank) throw new Error(`slice: expected ${rank} entries for size but got [${s}]`);
  const resolved = s.map((n, i) => (n === -1 ? x.shape[i] - b[i] : n));
  resolved.forEach((n, i) => {
    if (b[i] > x.shape[i] || n < 0 || b[i] + n > x.shape[i]) {
      throw new Error(`slice: expected begin + size <= ${x.shape[i]} in dimension ${i} for size but got begin ${b[i]}, size ${s[i]}`);
    }
  });
  const out = empty(resolved, x.dtype, x.device);
  return produce(out, () => (impl === 'fast' ? native.stridedSlice : native.stridedSliceRef)(x.data, x.shape, b, new Array<number>(rank).fill(1), resolved, out.data));
}

/** The box of x starting at `begin` with `size` (-1: to the end of that dimension). */
export const slice = (x: DeviceArray, begin: number | readonly number[], size?: number | readonly number[]) => sliceWith('fast', x, begin, size);
export const sliceRef = (x: DeviceArray, begin: number | readonly number[], size?: number | readonly number[]) => sliceWith('ref', x, begin, size);

export interface StridedSliceMasks {
  beginMask?: number;
  endMask?: number;
  ellipsisMask?: number;
  newAxisMask?: number;
  shrinkAxisMask?: number;
}

/** A strided slice resolved to one strided copy: out[i...] = x[begin + i * strides...] for i < size, then reshaped to outShape. */
export interface StridedSlicePlan {
  begin: number[];
  strides: number[];
  size: number[];
  outShape: number[];
  /** The slice takes all of x: only the shape changes. */
  isIdentity: boolean;
}

/**
 * Resolves StridedSlice's masks with tfjs-core's slice_util.sliceInfo (its errors included).
 * The copy reads every dimension of x with sliceInfo's dense begin and strides; tfjs-backend-cpu's
 * general path instead indexes with the sparse final shape, which misplaces reads when a
 * shrink axis meets a non-unit stride. This follows TensorFlow there.
 */
export function planStridedSlice(
  xShape: readonly number[], begin: readonly number[], end: readonly number[], strides: readonly number[] | undefined,
  masks: StridedSliceMasks = {},
): StridedSlicePlan {
  const info = slice_util.sliceInfo(
    [...xShape], [...begin], [...end], strides === undefined ? (undefined as unknown as number[]) : [...strides],
    masks.beginMask ?? 0, masks.endMask ?? 0, masks.ellipsisMask ?? 0, masks.newAxisMask ?? 0, masks.shrinkAxisMask ?? 0);
  // The interval arithmetic of sliceInfo's processing shape, per dense dimension.
  const size = xShape.map((_, i) => {
    const length = info.end[i] - info.begin[i];
    const stride = info.strides[i];
    if (length === 0 || length < 0 !== stride < 0) return 0;
    return Math.trunc(length / stride) + (length % stride !== 0 ? 1 : 0);
  });
  if (sizeOf(size) !== sizeOf(info.finalShape)) {
    throw new Error(`stridedSlice: internal error: slice of [${size}] does not fill shape [${info.finalShape}]`);
  }
  return { begin: info.begin, strides: info.strides, size, outShape: info.finalShape, isIdentity: info.isIdentity };
}

function runPlan(impl: Impl, x: DeviceArray, plan: StridedSlicePlan): DeviceArray {
  const out = empty(plan.outShape, x.dtype, x.device);
  return produce(out, () =>
    (impl === 'fast' ? native.stridedSlice : native.stridedSliceRef)(x.data, x.shape, plan.begin, plan.strides, plan.size, out.data));
}

/** Runs a plan from planStridedSlice on x (the tfjs kernel plans first to spot slices that copy nothing). */
export function stridedSliceByPlan(x: DeviceArray, plan: StridedSlicePlan): DeviceArray {
  checkArray('stridedSlice', 'x', x);
  return runPlan('fast', x, plan);
}

function stridedSliceWith(
  impl: Impl, x: DeviceArray, begin: readonly number[], end: readonly number[], strides?: readonly number[], masks: StridedSliceMasks = {},
): DeviceArray {
  checkArray('stridedSlice', 'x', x);
  checkIntegers('stridedSlice', 'begin', begin);
  checkIntegers('stridedSlice', 'end', end);
  if (strides !== undefined) checkIntegers('stridedSlice', 'strides', strides);
  return runPlan(impl, x, planStridedSlice(x.shape, begin, end, strides, masks));
}

/** tf.stridedSlice over a DeviceArray: begin/end/strides with the five masks, resolved as tfjs-core does. */
export const stridedSlice = (x: DeviceArray, begin: readonly number[], end: readonly number[], strides?: readonly number[], masks?: StridedSliceMasks) =>
  stridedSliceWith('fast', x, begin, end, strides, masks);
export const stridedSliceRef = (x: DeviceArray, begin: readonly number[], end: readonly number[], strides?: readonly number[], masks?: StridedSliceMasks) =>
  stridedSliceWith('ref', x, begin, end, strides, masks);

// ---------------------------------------------------------------------------------------
// Padding and tiling

function checkPaddings(op: string, x: DeviceArray, paddings: unknown): asserts paddings is [number, number][] {
  const ok = Array.isArray(paddings) && paddings.length === x.shape.length &&
    paddings.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
  if (!ok) {
    throw new Error(`${op}: expected ${x.shape.length} pairs of non-negative integers for paddings but got ${JSON.stringify(paddings)}`);
  }
}

function padShape(x: DeviceArray, paddings: readonly (readonly [number, number])[]): number[] {
  return x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
}

function padWith(impl: Impl, x: DeviceArray, paddings: readonly (readonly [number, number])[], constantValue = 0): DeviceArray {
  checkArray('pad', 'x', x);
  checkPaddings('pad', x, paddings);
  if (typeof constantValue !== 'number') throw new Error(`pad: expected a number for constantValue but got ${describe(constantValue)}`);
  const out = empty(padShape(x, paddings), x.dtype, x.device);
  return produce(out, () => (impl === 'fast' ? native.pad : native.padRef)(x.data, x.shape, paddings.map((p) => p[0]), paddings.map((p) => p[1]), constantValue, out.data));
}

/** Pads x with constantValue (stored as the dtype's typed array would store it): tfjs's PadV2. */
export const pad = (x: DeviceArray, paddings: readonly (readonly [number, number])[], constantValue = 0) => padWith('fast', x, paddings, constantValue);
export const padRef = (x: DeviceArray, paddings: readonly (readonly [number, number])[], constantValue = 0) => padWith('ref', x, paddings, constantValue);

function mirrorPadWith(impl: Impl, x: DeviceArray, paddings: readonly (readonly [number, number])[], mode: 'reflect' | 'symmetric'): DeviceArray {
  checkArray('mirrorPad', 'x', x);
  checkPaddings('mirrorPad', x, paddings);
  if (mode !== 'reflect' && mode !== 'symmetric') throw new Error(`mirrorPad: expected 'reflect' or 'symmetric' for mode but got ${describe(mode)}`);
  const slack = mode === 'reflect' ? 1 : 0;
  paddings.forEach(([before, after], i) => {
    if (before > x.shape[i] - slack || after > x.shape[i] - slack) {
      throw new Error(`mirrorPad: expected paddings of at most ${x.shape[i] - slack} in dimension ${i} (${mode}) for paddings but got [${before}, ${after}]`);
    }
  });
  const out = empty(padShape(x, paddings), x.dtype, x.device);
  return produce(out, () => (impl === 'fast' ? native.mirrorPad : native.mirrorPadRef)(x.data, x.shape, paddings.map((p) => p[0]), paddings.map((p) => p[1]), mode, out.data));
}

/** Pads x with its own mirror image: reflect leaves out the edge element, symmetric repeats it. */
export const mirrorPad = (x: DeviceArray, paddings: readonly (readonly [number, number])[], mode: 'reflect' | 'symmetric') => mirrorPadWith('fast', x, paddings, mode);
export const mirrorPadRef = (x: DeviceArray, paddings: readonly (readonly [number, number])[], mode: 'reflect' | 'symmetric') => mirrorPadWith('ref', x, paddings, mode);

function tileWith(impl: Impl, x: DeviceArray, reps: readonly number[]): DeviceArray {
  checkArray('tile', 'x', x);
  checkIntegers('tile', 'reps', reps, 0);
  if (reps.length !== x.shape.length) throw new Error(`tile: expected ${x.shape.length} entries for reps but got [${reps}]`);
  const out = empty(x.shape.map((d, i) => d * reps[i]), x.dtype, x.device);
  return produce(out, () => (impl === 'fast' ? native.tile : native.tileRef)(x.data, x.shape, reps, out.data));
}

/** Repeats x reps[i] times along each dimension i. */
export const tile = (x: DeviceArray, reps: readonly number[]) => tileWith('fast', x, reps);
export const tileRef = (x: DeviceArray, reps: readonly number[]) => tileWith('ref', x, reps);

// ---------------------------------------------------------------------------------------
// Gathers

function gatherWith(impl: Impl, x: DeviceArray, indices: DeviceArray, axis = 0, batchDims = 0): DeviceArray {
  checkArray('gather', 'x', x);
  checkArray('gather', 'indices', indices);
  checkDType('gather', 'indices', indices, ['int32']);
  const at = normalizeAxis('gather', 'axis', axis, x.shape.length);
  const iRank = indices.shape.length;
  if (!Number.isInteger(batchDims) || batchDims < -iRank || batchDims > iRank) {
    throw new Error(`gather: expected an integer in [${-iRank}, ${iRank}] for batchDims but got ${describe(batchDims)}`);
  }
  const bd = batchDims < 0 ? batchDims + iRank : batchDims;
  if (bd > at) throw new Error(`gather: expected batchDims <= axis (${at}) for batchDims but got ${batchDims}`);
  for (let i = 0; i < bd; i++) {
    if (x.shape[i] !== indices.shape[i]) {
      throw new Error(`gather: expected the first ${bd} dimensions of x ([${x.shape}]) for indices but got shape [${indices.shape}]`);
    }
  }
  const shape = [...x.shape.slice(0, at), ...indices.shape.slice(bd), ...x.shape.slice(at + 1)];
  const out = empty(shape, x.dtype, x.device);
  return produce(out, () =>
    (impl === 'fast' ? native.gather : native.gatherRef)(x.data, x.shape, indices.data as Int32Array, indices.shape, at, bd, out.data));
}

/**
 * Picks entries of x along `axis` by int32 `indices`, the first batchDims dimensions of x and
 * indices going together (tfjs's GatherV2). An index outside [0, x.shape[axis]) throws
 * tfjs's "GatherV2: the index value I is not in [0, N]".
 */
export const gather = (x: DeviceArray, indices: DeviceArray, axis = 0, batchDims = 0) => gatherWith('fast', x, indices, axis, batchDims);
export const gatherRef = (x: DeviceArray, indices: DeviceArray, axis = 0, batchDims = 0) => gatherWith('ref', x, indices, axis, batchDims);

function gatherNdWith(impl: Impl, x: DeviceArray, indices: DeviceArray): DeviceArray {
  checkArray('gatherNd', 'x', x);
  checkArray('gatherNd', 'indices', indices);
  checkDType('gatherNd', 'indices', indices, ['int32']);
  const rank = x.shape.length;
  if (rank === 0) throw new Error('gatherNd: expected rank 1 or more for x but got a scalar');
  if (indices.shape.length === 0) throw new Error('gatherNd: expected rank 1 or more for indices but got a scalar');
  const depth = indices.shape[indices.shape.length - 1];
  if (depth > rank) throw new Error(`gatherNd: expected an innermost dimension of at most ${rank} for indices but got shape [${indices.shape}]`);
  const out = empty([...indices.shape.slice(0, -1), ...x.shape.slice(depth)], x.dtype, x.device);
  return produce(out, () =>
    (impl === 'fast' ? native.gatherNd : native.gatherNdRef)(x.data, x.shape, indices.data as Int32Array, indices.shape, out.data));
}

/**
 * Picks slices of x addressed by the rows of int32 `indices` (innermost dimension: how many
 * leading dimensions of x each row addresses). As in tfjs, a row is checked by the flat offset
 * it addresses; a bad one throws "Invalid indices: ... does not index into ...".
 */
export const gatherNd = (x: DeviceArray, indices: DeviceArray) => gatherNdWith('fast', x, indices);
export const gatherNdRef = (x: DeviceArray, indices: DeviceArray) => gatherNdWith('ref', x, indices);

function oneHotWith(impl: Impl, indices: DeviceArray, depth: number, onValue = 1, offValue = 0, dtype: DType = 'int32'): DeviceArray {
  checkArray('oneHot', 'indices', indices);
  checkDType('oneHot', 'indices', indices, ['int32']);
  checkInteger('oneHot', 'depth', depth, 0);
  if (typeof onValue !== 'number') throw new Error(`oneHot: expected a number for onValue but got ${describe(onValue)}`);
  if (typeof offValue !== 'number') throw new Error(`oneHot: expected a number for offValue but got ${describe(offValue)}`);
  const out = empty([...indices.shape, depth], dtype, indices.device);
  return produce(out, () => (impl === 'fast' ? native.oneHot : native.oneHotRef)(indices.data as Int32Array, depth, onValue, offValue, out.data as NativeArray));
}

/** out[..., j] = indices[...] === j ? onValue : offValue, in `dtype`; indices outside [0, depth) give a row of offValue. */
export const oneHot = (indices: DeviceArray, depth: number, onValue = 1, offValue = 0, dtype: DType = 'int32') =>
  oneHotWith('fast', indices, depth, onValue, offValue, dtype);
export const oneHotRef = (indices: DeviceArray, depth: number, onValue = 1, offValue = 0, dtype: DType = 'int32') =>
  oneHotWith('ref', indices, depth, onValue, offValue, dtype);
