// Reductions on tessera-webgpu: Sum, Prod, Mean, Max, Min, All, Any, ArgMax, ArgMin
// (kernels/wgsl/reduce.wgsl), with tfjs-backend-cpu's semantics:
// - dtypes: Sum and Prod of int32 or bool give int32, Mean float32, ArgMax/ArgMin int32, the
//   rest keep the input's dtype; All and Any take bool (other dtypes run on tessera-cpu).
// - NaN: Max and Min give NaN when the row holds one. ArgMax/ArgMin follow tfjs's scan
//   `if (v > best) best = v`: a NaN first element wins, later NaNs never do; ties keep the
//   first index.
// - Reducing over no elements: 0 for Sum, Mean, All, Any, ArgMax, ArgMin; 1 for Prod; NaN
//   (float32) or 0 (int32, bool) for Max and Min (tfjs-backend-cpu reads the row's missing
//   first element).
// - Mean sums x / n (as tfjs-backend-cpu does), which cannot overflow where x does not.
//
// Axes need no transpose: the reduced axes are grouped into runs of adjacent dims (after
// dropping dims of extent 1), and each run is one pass over x viewed as [outer, R, inner],
// innermost run first. Sum, Prod, Max, Min, All and Any are associative, so reducing run by
// run gives the same result as reducing all at once (up to float rounding). ArgMax/ArgMin
// reduce one axis, so one run.
//
// A pass (planReduce) folds rows of up to 32 elements, and wide column reductions, with one
// invocation per output (reduce_serial.wgsl); longer rows with T lanes per output and a
// workgroup tree (reduce.wgsl). Rows long enough to leave the GPU idle are split into chunks
// whose partials a second pass folds. The grid is capped at MAX_WORKGROUPS; workgroups take
// tiles in a strided loop.
import type { DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import type { Program } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslType } from '../wgsl.js';

export type ReduceOp = 'Sum' | 'Prod' | 'Mean' | 'Max' | 'Min' | 'All' | 'Any' | 'ArgMax' | 'ArgMin';
type WgslType = 'f32' | 'i32' | 'u32';

/** Where a pass reads from: x itself, a previous pass's accumulators, or (ArgMax/ArgMin) its (value, index) pairs. */
type LoadStage = 'source' | 'acc' | 'pairs';
/** What a pass writes: the result (or accumulators, the same type), or (ArgMax/ArgMin) (value, index) pairs. */
type StoreStage = 'final' | 'pairs';

const isArg = (op: ReduceOp) => op === 'ArgMax' || op === 'ArgMin';

/** tfjs-backend-cpu's output dtype. */
function outputDtype(op: ReduceOp, dtype: DataType): DataType {
  if (op === 'Sum' || op === 'Prod') return dtype === 'float32' ? 'float32' : 'int32';
  if (op === 'Mean') return 'float32';
  if (isArg(op)) return 'int32';
  return dtype;
}

/** The accumulator's WGSL type for input type `t` (for ArgMax/ArgMin: the value part). */
function accType(op: ReduceOp, t: WgslType): WgslType {
  if (op === 'Sum' || op === 'Prod') return t === 'f32' ? 'f32' : 'i32';
  if (op === 'Mean') return 'f32';
  return t;
}

// The largest and smallest value of each type, as WGSL expressions (infinities and the i32
// minimum cannot be written as literals).
const LOWEST: Record<WgslType, string> = { f32: '-inf()', i32: 'bitcast<i32>(0x80000000u)', u32: '0u' };
const HIGHEST: Record<WgslType, string> = { f32: 'inf()', i32: '2147483647i', u32: '0xffffffffu' };
const NO_INDEX = '0xffffffffu';

function programFor(op: ReduceOp, inType: WgslType, load: LoadStage, store: StoreStage, serial: boolean): Program {
  const acc = accType(op, inType);
  const key = `reduce/${op}/${inType}/${load}/${store}/${serial ? 'serial' : 'tree'}`;
  let accDecl = `alias Acc = ${acc};`;
  let identity: string;
  let combine: string;
  let loadBody = load === 'source' && acc !== inType ? `return ${acc}(x[i]);` : 'return x[i];';
  let storeBody: string | undefined;
  let inT: string = load === 'source' ? inType : acc;
  let outT: string = acc;
  // What an empty reduction (R == 0) writes, where it is not the identity.
  let empty: string | null = null;
  switch (op) {
    case 'Sum':
      identity = `${acc}(0)`;
      combine = 'return a + b;';
      break;
    case 'Prod':
      identity = `${acc}(1)`;
      combine = 'return a * b;';
      break;
    case 'Mean':
      identity = 'f32(0)';
      combine = 'return a + b;';
      // Every element divided by n (mf(8)) before the sum, as tfjs-backend-cpu does.
      if (load === 'source') loadBody = 'return f32(x[i]) / mf(8u);';
      break;
    case 'Max':
    case 'Min': {
      const pick = op === 'Max' ? 'max' : 'min';
      identity = op === 'Max' ? LOWEST[acc] : HIGHEST[acc];
      // WGSL leaves max/min of NaN to the implementation: NaN wins explicitly.
      combine = acc === 'f32' ? `if (isNan(a) || isNan(b)) { return nan(); } return ${pick}(a, b);` : `return ${pick}(a, b);`;
      empty = acc === 'f32' ? 'nan()' : `${acc}(0)`;
      break;
    }
    case 'All':
      identity = '1u';
      combine = 'return a & b;';
      empty = '0u';
      break;
    case 'Any':
      identity = '0u';
      combine = 'return a | b;';
      break;
    case 'ArgMax':
    case 'ArgMin': {
      // A candidate is (value, index in the row); index NO_INDEX marks none (a lane with no
      // elements, or only NaNs past the first). tfjs's scan keeps a NaN first element and
      // never takes a later NaN: the first is made +-Inf, which only ties at index 0 and so
      // always wins; later NaNs are dropped.
      const better = op === 'ArgMax' ? '>' : '<';
      accDecl = `struct Acc { v: ${acc}, i: u32 }`;
      identity = `Acc(${acc}(0), ${NO_INDEX})`;
      combine = `if (b.i == ${NO_INDEX}) { return a; }
  if (a.i == ${NO_INDEX}) { return b; }
  if (b.v ${better} a.v || (b.v == a.v && b.i < a.i)) { return b; }
  return a;`;
      if (load === 'pairs') {
        inT = 'u32';
        loadBody = `return Acc(bitcast<${acc}>(x[2u * i]), x[2u * i + 1u]);`;
      } else if (acc === 'f32') {
        loadBody = `var v = x[i];
  if (isNan(v)) {
    if (j != 0u) { return identity(); }
    v = ${op === 'ArgMax' ? 'inf()' : '-inf()'};
  }
  return Acc(v, j);`;
      } else {
        loadBody = 'return Acc(x[i], j);';
      }
      if (store === 'pairs') {
        outT = 'u32';
        storeBody = `out[2u * k] = bitcast<u32>(a.v);
  out[2u * k + 1u] = a.i;`;
      } else {
        outT = 'i32';
        storeBody = `out[k] = select(i32(a.i), 0i, a.i == ${NO_INDEX});`;
      }
      break;
    }
  }
  storeBody ??= empty === null ? 'out[k] = a;' : `if (m(1u) == 0u) { out[k] = ${empty}; return; }
  out[k] = a;`;
  return templateProgram(key, serial ? 'reduce_serial' : 'reduce', 2, 9, {
    IN_T: inT, OUT_T: outT, ACC: accDecl, IDENTITY: identity, LOAD: loadBody, COMBINE: combine, STORE: storeBody,
  });
}

const nextPow2 = (n: number) => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));

// Rows up to this long are folded by one invocation each (reduce_serial.wgsl).
const SERIAL_MAX_ROW = 32;
// Column reductions (inner > 1) with at least this many outputs fold serially too: the
// invocations of a workgroup read neighbouring columns, and there are enough of them.
const SERIAL_MIN_COLUMNS = 16384;
// A lane takes at least this many elements of a row before the row is split over workgroups.
const MIN_PER_LANE = 16;
// Tiles (outputs x row chunks) are made until about this many exist, and the grid is capped
// at this many workgroups, which take the tiles in a grid-strided loop.
export const MAX_WORKGROUPS = 1024;

export interface ReducePlan {
  /** Lanes per output (a power of two up to 256; 1: reduce_serial.wgsl); 256 / lanes outputs per workgroup. */
  lanes: number;
  /** Whether lanes vary fastest within a workgroup (rows contiguous in memory). */
  laneFastest: boolean;
  /** Pieces each row is split into (1: one pass). */
  chunks: number;
  chunkLen: number;
  /** Tiles: groups of 256 / lanes outputs times chunks. */
  tiles: number;
  /** Workgroups dispatched. */
  workgroups: number;
}

/** How a pass over [outer, R, inner] (outputs = outer * inner) is laid out over workgroups. */
export function planReduce(outputs: number, R: number, inner: number): ReducePlan {
  let lanes = 1;
  const serial = R <= SERIAL_MAX_ROW || (inner > 1 && outputs >= SERIAL_MIN_COLUMNS);
  if (!serial) {
    // About eight elements per lane before the tree.
    lanes = Math.min(256, nextPow2(Math.ceil(R / 8)));
    // Strided rows: neighbouring invocations take neighbouring columns; keep up to 32 of them.
    if (inner > 1) lanes = Math.min(lanes, 256 / Math.min(32, nextPow2(inner)));
  }
  const perGroup = 256 / lanes;
  const rowGroups = Math.ceil(outputs / perGroup);
  let chunks = 1;
  let chunkLen = Math.max(R, 1);
  if (rowGroups < MAX_WORKGROUPS / 2 && R > 2 * lanes * MIN_PER_LANE) {
    chunks = Math.min(Math.ceil(R / (lanes * MIN_PER_LANE)), Math.ceil(MAX_WORKGROUPS / rowGroups));
    chunkLen = Math.ceil(Math.ceil(R / chunks) / lanes) * lanes;
    chunks = Math.ceil(R / chunkLen);
  }
  const tiles = rowGroups * chunks;
  return { lanes, laneFastest: inner === 1, chunks, chunkLen, tiles, workgroups: Math.min(tiles, MAX_WORKGROUPS) };
}

interface Pass {
  op: ReduceOp;
  inType: WgslType;
  /** The divisor for Mean. */
  n: number;
}

/**
 * Reduces `input` viewed as [outer, R, inner] over R into a new tensor of `outputs` =
 * outer * inner elements (pairs for store 'pairs'), in one or, for long rows, two or more
 * passes.
 */
function runPass(backend: TesseraWebGpuBackend, pass: Pass, input: TensorInfo, load: LoadStage, store: StoreStage,
  outer: number, R: number, inner: number, outShape: number[], outDtype: DataType): TensorInfo {
  const outputs = outer * inner;
  const plan = planReduce(outputs, R, inner);
  const device = backend.device;
  const dispatch = (program: Program, src: TensorInfo, dst: TensorInfo, p: ReducePlan, rows: number, len: number, stride: number) => {
    const meta = new Meta()
      .u32(rows, len, stride, p.chunks, p.chunkLen, Math.log2(p.lanes), p.tiles, p.laneFastest ? 1 : 0)
      .f32(pass.n);
    device.dispatch(program, [backend.gpuBuffer(src), backend.gpuBuffer(dst)], meta.build(),
      [p.workgroups]);
  };
  if (plan.chunks === 1) {
    const out = backend.makeOutput(outShape, outDtype);
    try {
      dispatch(programFor(pass.op, pass.inType, load, store, plan.lanes === 1), input, out, plan, outputs, R, inner);
    } catch (e) {
      backend.disposeIntermediateTensorInfo(out);
      throw e;
    }
    return out;
  }
  // Long rows: partials [outputs, chunks], then those reduced as rows.
  const arg = isArg(pass.op);
  const partials = backend.makeOutput([outputs * plan.chunks * (arg ? 2 : 1)], arg ? 'int32' : accDtype(pass));
  try {
    dispatch(programFor(pass.op, pass.inType, load, arg ? 'pairs' : 'final', plan.lanes === 1), input, partials, plan, outputs, R, inner);
    return runPass(backend, pass, partials, arg ? 'pairs' : 'acc', store, outputs, plan.chunks, 1, outShape, outDtype);
  } finally {
    backend.disposeIntermediateTensorInfo(partials);
  }
}

/** The dtype of a non-arg reduction's accumulators (as tfjs sees them). */
function accDtype(pass: Pass): DataType {
  const acc = accType(pass.op, pass.inType);
  return acc === 'f32' ? 'float32' : acc === 'i32' ? 'int32' : 'bool';
}

/** tfjs's axis parameter, non-negative and sorted; null where tfjs would reject it (tessera-cpu then reports it). */
function normalizeAxes(axis: unknown, rank: number): number[] | null {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(list)) return null;
  const axes = new Set<number>();
  for (const a of list) {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank) return null;
    const n = a < 0 ? a + rank : a;
    if (axes.has(n)) return null;
    axes.add(n);
  }
  return [...axes].sort((p, q) => p - q);
}

/**
 * Reduces x over `axes` (sorted, distinct, in range) with `op`. Returns null for dtypes the
 * WGSL does not take.
 */
export function reduceOnGpu(backend: TesseraWebGpuBackend, op: ReduceOp, x: TensorInfo, axes: number[], keepDims: boolean): TensorInfo | null {
  const dtype = x.dtype;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') return null;
  if ((op === 'All' || op === 'Any') && dtype !== 'bool') return null;
  const shape = x.shape;
  const reduced = shape.map((_, i) => axes.includes(i));
  const outShape = keepDims ? shape.map((d, i) => (reduced[i] ? 1 : d)) : shape.filter((_, i) => !reduced[i]);
  const outDtype = outputDtype(op, dtype);
  const outputs = util.sizeFromShape(outShape);
  const n = axes.reduce((p, a) => p * shape[a], 1);
  if (outputs === 0) return backend.makeOutput(outShape, outDtype);
  const pass: Pass = { op, inType: wgslType(dtype), n };
  if (n === 0) return runPass(backend, pass, x, 'source', 'final', outputs, 0, 1, outShape, outDtype);

  // Runs of adjacent dims, reduced or kept, with extent-1 dims dropped: [size, reduced][].
  let runs: Array<[number, boolean]> = [];
  const pushRun = (list: Array<[number, boolean]>, size: number, r: boolean) => {
    if (size === 1) return;
    const last = list[list.length - 1];
    if (last !== undefined && last[1] === r) last[0] *= size;
    else list.push([size, r]);
  };
  shape.forEach((d, i) => pushRun(runs, d, reduced[i]));
  if (!runs.some(([, r]) => r)) {
    // Nothing to combine (every reduced dim has extent 1): one pass with R = 1 still casts.
    return runPass(backend, pass, x, 'source', 'final', outputs, 1, 1, outShape, outDtype);
  }
  let current = x;
  let load: LoadStage = 'source';
  for (;;) {
    let r = runs.length - 1;
    while (!runs[r][1]) r--;
    const outer = runs.slice(0, r).reduce((p, [s]) => p * s, 1);
    const inner = runs.slice(r + 1).reduce((p, [s]) => p * s, 1);
    const rest: Array<[number, boolean]> = [];
    runs.forEach(([s, red], i) => i !== r && pushRun(rest, s, red));
    const last = !rest.some(([, red]) => red);
    const next = runPass(backend, pass, current, load, 'final', outer, runs[r][0], inner,
      last ? outShape : [outer * inner], last ? outDtype : accDtype(pass));
    if (current !== x) backend.disposeIntermediateTensorInfo(current);
    if (last) return next;
    current = next;
    load = 'acc';
    runs = rest;
  }
}

function reduceConfig(op: ReduceOp, axisAttr: 'axis' | 'reductionIndices'): KernelConfig {
  return gpuKernelConfig(op, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const axes = normalizeAxes(attrs?.[axisAttr], x.shape.length);
    if (axes === null) return null;
    return reduceOnGpu(backend, op, x, axes, Boolean(attrs?.keepDims));
  });
}

function argReduceConfig(op: 'ArgMax' | 'ArgMin'): KernelConfig {
  return gpuKernelConfig(op, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const axis = attrs?.axis;
    const single = typeof axis === 'number' ? axis : Array.isArray(axis) && axis.length === 1 ? axis[0] : undefined;
    if (single === undefined) return null;
    const axes = normalizeAxes(single, x.shape.length);
    if (axes === null || axes.length !== 1) return null;
    return reduceOnGpu(backend, op, x, axes, false);
  });
}

export const reduceKernelConfigs: KernelConfig[] = [
  reduceConfig('Sum', 'axis'),
  reduceConfig('Prod', 'axis'),
  reduceConfig('Mean', 'axis'),
  reduceConfig('Max', 'reductionIndices'),
  reduceConfig('Min', 'axis'),
  reduceConfig('All', 'axis'),
  reduceConfig('Any', 'axis'),
  argReduceConfig('ArgMax'),
  argReduceConfig('ArgMin'),
];
