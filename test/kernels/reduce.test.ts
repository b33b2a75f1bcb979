import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';

import '../../src/index.js';
import {
  argMax,
  argMin,
  argReduceRef,
  array,
  cumsum,
  REDUCE_OPS,
  reduce,
  reduceDTypes,
  reduceRef,
  scanRef,
  softmax,
  softmaxRef,
  sum,
  topK,
  topKRef,
  type ArgReduceOp,
  type AxisArg,
  type ReduceOp,
  type ScanOp,
} from '../../src/kernels/index.js';
import { cumprod } from '../../src/kernels/reduce.js';
import type { DType } from '../../src/kernels/array.js';
import { checkLeaks, expectClose, randomShape, randomValues, rng } from '../helpers.js';

checkLeaks();

type KernelResult = { shape: number[]; dtype: string; values: number[] };

/** Runs a kernel on tfjs-backend-cpu (the specification) and reads every output back. */
function tfjsKernel(backend: string, kernel: string, inputs: Record<string, { values: number[]; shape: number[]; dtype: DType }>, attrs: object): KernelResult[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) tensors[name] = tf.tensor(t.values, t.shape, t.dtype);
    const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out : [out]).map((o) => ({ shape: o.shape, dtype: o.dtype, values: Array.from(o.dataSync() as ArrayLike<number>) }));
  });
}

/** Element-for-element identity: NaN equals NaN, and 0 differs from -0. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what = ''): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      expect.fail(`${what} element ${i}: expected ${Object.is(expected[i], -0) ? '-0' : expected[i]} but got ${Object.is(actual[i], -0) ? '-0' : actual[i]}`);
    }
  }
}

/** Distance in float32 ulps (0 for identical values, NaN pairs included). */
function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (v: number) => (v < 0 ? -2147483648 - v : v);
  return Math.abs(key(i[0]) - key(i[1]));
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// Float sums and means accumulate in double lanes instead of tfjs's single double chain:
// equal to float32 precision but for the rare rounding tie. Products run in tfjs's order.
function tolerance(op: ReduceOp, dtype: DType): { abs?: number; rel?: number } {
  if (reduceDTypes(op).length === 1 || op === 'Max' || op === 'Min') return { abs: 0, rel: 0 };
  return dtype === 'float32' || op === 'Mean' ? { abs: 1e-6, rel: 1e-6 } : { abs: 0, rel: 0 };
}

function valuesFor(rand: () => number, op: string, n: number, dtype: DType): number[] {
  // Integer products of 0, ±1 and ±2 stay exact powers of two in any order.
  if (op === 'Prod') return dtype === 'float32' ? randomValues(rand, n, dtype, 0.5, 1.5) : randomValues(rand, n, dtype, -2, 2);
  return randomValues(rand, n, dtype);
}

function checkReduce(op: ReduceOp, shape: number[], dtype: DType, values: number[], axis: AxisArg, keepDims: boolean): void {
  const x = array(values, shape, dtype);
  const out = reduce(op, x, axis, keepDims);
  const ref = reduceRef(op, x, axis, keepDims);
  const attrs = op === 'Max' ? { reductionIndices: axis, keepDims } : { axis, keepDims };
  const [expected] = tfjsKernel('cpu', op, { x: { values, shape, dtype } }, attrs);
  const what = `${op} ${dtype} [${shape}] axis ${JSON.stringify(axis)} keepDims ${keepDims}`;
  expect(out.shape, what).toEqual(expected.shape);
  expect(out.dtype, what).toBe(expected.dtype);
  const tol = tolerance(op, dtype);
  if (tol.abs === 0) {
    expectSame(out.data, ref.data, `${what} vs ref`);
    expectSame(out.data, expected.values, `${what} vs tfjs`);
  } else {
    expectClose(out.data, ref.data, 'float32', tol);
    expectClose(out.data, expected.values, 'float32', tol);
  }
  for (const a of [x, out, ref]) a.dispose();
}

/** Every subset of the axes of a rank-r shape, some written negative and out of order. */
function axisSubsets(rand: () => number, rank: number): AxisArg[] {
  const subsets: AxisArg[] = [null];
  for (let mask = 0; mask < 1 << rank; mask++) {
    const axes: number[] = [];
    for (let a = 0; a < rank; a++) if (mask & (1 << a)) axes.push(rand() < 0.3 ? a - rank : a);
    if (rand() < 0.3) axes.reverse();
    subsets.push(axes.length === 1 && rand() < 0.5 ? axes[0] : axes);
  }
  return subsets;
}

describe('reductions', () => {
  for (const op of REDUCE_OPS) {
    for (const dtype of reduceDTypes(op)) {
      it(`${op} ${dtype}: ranks 0-5, every axis subset, keepDims, against the reference and tfjs-backend-cpu`, () => {
        const rand = rng(op.length * 31 + dtype.length);
        for (let rank = 0; rank <= 5; rank++) {
          const shape = randomShape(rand, rank, rank >= 4 ? 3 : 5);
          for (const axis of axisSubsets(rand, rank)) {
            if (rank === 5 && rand() < 0.6) continue;
            checkReduce(op, shape, dtype, valuesFor(rand, op, size(shape), dtype), axis, rand() < 0.5);
          }
        }
      });
    }
  }

  it('long rows and columns take the vectorized and split paths and agree with the reference', () => {
    const rand = rng(99);
    for (const [shape, axis] of [[[3, 700], 1], [[700, 3], 0], [[5, 37, 41], [0, 2]], [[2, 3000], [1]], [[3000, 2], [0]], [[64, 1100], [0]]] as [number[], number[]][]) {
      for (const op of REDUCE_OPS) {
        for (const dtype of reduceDTypes(op)) checkReduce(op, shape, dtype, valuesFor(rand, op, size(shape), dtype), axis, false);
      }
    }
  });

  it('Max and Min keep tfjs NaN and signed-zero results in short rows, long rows and columns', () => {
    // tfjs keeps the first of equal values (so the first zero decides a zero result's sign) and
    // lets any NaN win.
    const rows = [
      [NaN, 1, 2], [1, NaN, 2], [1, 2, NaN], [-0, 0], [0, -0], [-1, -0, 0], [-1, 0, -0], [1, -0, 0], [Infinity, -Infinity],
      [-Infinity, -Infinity], [NaN, NaN],
    ];
    const long = (zeroFirst: number, nanAt: number) =>
      Array.from({ length: 100 }, (_, i) => (i === nanAt ? NaN : i === 40 ? zeroFirst : i === 70 ? -zeroFirst : -1 - i));
    for (const row of [...rows, long(0, -1), long(-0, -1), long(0, 90), long(-0, 0)]) {
      for (const op of ['Max', 'Min'] as ReduceOp[]) {
        const negated = op === 'Min' ? row.map((v) => -v) : row;
        checkReduce(op, [negated.length], 'float32', negated, 0, false);
        checkReduce(op, [1, negated.length], 'float32', negated, 1, false);
        checkReduce(op, [negated.length, 1], 'float32', negated, 0, false);
        checkReduce(op, [negated.length, 2], 'float32', negated.flatMap((v) => [v, v]), 0, false);
      }
    }
  });

  it('All and Any of bool follow && and || from the first element', () => {
    for (const row of [[1, 1, 1], [1, 0, 1], [0, 0, 0], [0, 0, 1], [1], [0]]) {
      for (const op of ['All', 'Any'] as ReduceOp[]) {
        checkReduce(op, [row.length], 'bool', row, 0, false);
        checkReduce(op, [row.length, 2], 'bool', row.flatMap((v) => [v, 1 - v]), 0, true);
        checkReduce(op, [2, row.length * 20], 'bool', [...row, ...row].flatMap((v) => Array(20).fill(v)), 1, false);
      }
    }
  });

  it('NaN and Inf propagate as in tfjs', () => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 1e30, -1e30, 3.5e38, -3.5e38];
    const rand = rng(5);
    for (let trial = 0; trial < 30; trial++) {
      const shape = randomShape(rand, 3, 4);
      const values = Array.from({ length: size(shape) }, () => (rand() < 0.3 ? special[Math.floor(rand() * special.length)] : randomValues(rand, 1, 'float32')[0]));
      for (const op of ['Sum', 'Mean', 'Prod', 'Max', 'Min'] as ReduceOp[]) {
        checkReduce(op, shape, 'float32', values, Math.floor(rand() * 3), rand() < 0.5);
        checkReduce(op, shape, 'float32', values, [0, 2], false);
      }
    }
  });

  it('empty reductions give tfjs values (Sum 0, Prod 1, Max NaN or 0, All/Any 0), empty outputs are empty', () => {
    for (const [shape, axis] of [[[0], 0], [[3, 0], 1], [[0, 3], 0], [[0, 3], 1], [[2, 0, 3], [1]], [[2, 0, 3], [0, 2]], [[0], null]] as [number[], AxisArg][]) {
      for (const op of REDUCE_OPS) {
        for (const dtype of reduceDTypes(op)) {
          checkReduce(op, shape, dtype, [], axis, false);
          checkReduce(op, shape, dtype, [], axis, true);
        }
      }
    }
  });

  it('int32 sums wrap like an Int32Array store', () => {
    const values = [2147483647, 1, 2147483647, -5];
    checkReduce('Sum', [4], 'int32', values, 0, false);
    checkReduce('Sum', [2, 2], 'int32', values, 0, false);
    checkReduce('Prod', [4], 'int32', [65536, 65536, 3, 7], 0, false);
  });

  it('a sum of 4M float32 values (threaded, split) matches the sequential double sum', () => {
    const rand = rng(11);
    const n = 1 << 22;
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = rand() * 2 - 1;
    let total = 0;
    for (let i = 0; i < n; i++) total += values[i];
    const x = array(values, [n]);
    const out = sum(x);
    expectClose(out.data, [Math.fround(total)], 'float32', { abs: 0, rel: 1e-7 });
    // The same values as long rows, long columns and a 2-D block: each against the reference.
    for (const [shape, axis] of [[[2, n / 2], 1], [[n / 2, 2], 0], [[2048, 2048], 0], [[2048, 2048], 1], [[16, 512, 512], [0, 2]]] as [number[], number[]][]) {
      const xs = array(values, shape);
      for (const op of ['Sum', 'Mean', 'Max', 'Min'] as ReduceOp[]) {
        const a = reduce(op, xs, axis);
        const b = reduceRef(op, xs, axis);
        expectClose(a.data, b.data, 'float32', op === 'Sum' || op === 'Mean' ? { abs: 1e-6, rel: 1e-6 } : { abs: 0, rel: 0 });
        a.dispose();
        b.dispose();
      }
      xs.dispose();
    }
    x.dispose();
    out.dispose();
  });
});

describe('argMax and argMin', () => {
  for (const op of ['ArgMax', 'ArgMin'] as ArgReduceOp[]) {
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      it(`${op} ${dtype}: every axis of ranks 1-5 against the reference and tfjs-backend-cpu`, () => {
        const rand = rng(op.length + dtype.length * 7);
        for (let rank = 1; rank <= 5; rank++) {
          const shape = randomShape(rand, rank, 5);
          for (let axis = -rank; axis < rank; axis++) {
            // Few distinct values: many ties, which must resolve to the first index.
            const values = randomValues(rand, size(shape), dtype, -2, 2);
            checkArg(op, shape, dtype, values, axis);
          }
        }
      });
    }
    it(`${op}: NaN first wins, later NaN is skipped; empty axis gives 0`, () => {
      for (const row of [[NaN, 1, 2], [1, NaN, 2], [2, 1, NaN], [NaN, NaN], [-0, 0], [-Infinity, -Infinity], [Infinity, Infinity]]) {
        checkArg(op, [row.length], 'float32', row, 0);
        checkArg(op, [row.length, 2], 'float32', row.flatMap((v) => [v, -v]), 0);
      }
      checkArg(op, [3, 0], 'float32', [], 1);
      checkArg(op, [0, 3], 'float32', [], 1);
    });
  }
});

function checkArg(op: ArgReduceOp, shape: number[], dtype: DType, values: number[], axis: number): void {
  const x = array(values, shape, dtype);
  const out = op === 'ArgMax' ? argMax(x, axis) : argMin(x, axis);
  const ref = argReduceRef(op, x, axis);
  const [expected] = tfjsKernel('cpu', op, { x: { values, shape, dtype } }, { axis });
  const what = `${op} ${dtype} [${shape}] axis ${axis}`;
  expect(out.shape, what).toEqual(expected.shape);
  expectSame(out.data, ref.data, `${what} vs ref`);
  expectSame(out.data, expected.values, `${what} vs tfjs`);
  for (const a of [x, out, ref]) a.dispose();
}

describe('softmax', () => {
  function checkSoftmax(shape: number[], values: number[]): { exact: number; total: number } {
    const x = array(values, shape);
    const out = softmax(x);
    const ref = softmaxRef(x);
    const [expected] = tfjsKernel('cpu', 'Softmax', { logits: { values, shape, dtype: 'float32' } }, { dim: -1 });
    let exact = 0;
    for (let i = 0; i < values.length; i++) {
      const vsTfjs = ulps(out.data[i], expected.values[i]);
      if (vsTfjs > 1) expect.fail(`[${shape}] element ${i}: ${out.data[i]} vs tfjs ${expected.values[i]} (${vsTfjs} ulps)`);
      if (ulps(out.data[i], ref.data[i]) > 1) expect.fail(`[${shape}] element ${i}: ${out.data[i]} vs ref ${ref.data[i]}`);
      if (vsTfjs === 0) exact++;
    }
    for (const a of [x, out, ref]) a.dispose();
    return { exact, total: values.length };
  }

  it('random shapes within 1 float32 ulp of tfjs-backend-cpu and almost always equal', () => {
    const rand = rng(21);
    let exact = 0;
    let total = 0;
    for (const shape of [[1], [7], [3, 5], [2, 3, 40], [4, 1000], [2, 2, 2, 17], [64, 10], [1, 5000]]) {
      for (const scale of [1, 30, 100]) {
        const r = checkSoftmax(shape, randomValues(rand, size(shape), 'float32', -scale, scale));
        exact += r.exact;
        total += r.total;
      }
    }
    expect(exact / total).toBeGreaterThan(0.999);
  });

  it('NaN, infinities and underflow as tfjs', () => {
    const rows = [[NaN, 1, 2], [-Infinity, 0, 1], [-Infinity, -Infinity], [Infinity, 1], [Infinity, Infinity], [0, -87, -100, -103.5, -104, -200], [1e30, -1e30]];
    for (const row of rows) checkSoftmax([row.length], row);
  });

  it('many rows across threads agree with the reference', () => {
    const rand = rng(23);
    const shape = [2048, 300];
    checkSoftmax(shape, randomValues(rand, size(shape), 'float32', -20, 20));
  });

  it('row lengths around the vector widths, and spreads whose quotients underflow', () => {
    // Rows spread over up to 150 below their maximum put tiny and subnormal exps beside
    // ordinary ones in one vector: the quotients near the subnormal range are divided, the
    // others come from the reciprocal.
    const rand = rng(29);
    let exact = 0;
    let total = 0;
    for (const cols of [15, 16, 17, 31, 33, 63, 64, 65, 100, 1024, 1031]) {
      for (const spread of [1, 45, 150]) {
        const r = checkSoftmax([7, cols], randomValues(rand, 7 * cols, 'float32', -spread, 0));
        exact += r.exact;
        total += r.total;
      }
    }
    expect(exact / total).toBeGreaterThan(0.999);
  });

  it('the generic and AVX2 builds of the float sum and of softmax agree with the references', () => {
    // TESSERA_ISA is read once per process, so each narrower path runs in a child process.
    const addon = fileURLToPath(new URL('../../build/Release/tessera.node', import.meta.url));
    const script = `
      const a = require(${JSON.stringify(addon)});
      let s = 13;
      const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
      const f32 = new Float32Array(2);
      const i32 = new Int32Array(f32.buffer);
      const ulps = (x, y) => {
        if (x !== x || y !== y) return x !== x && y !== y ? 0 : Infinity;
        f32[0] = x; f32[1] = y;
        const key = (v) => (v < 0 ? -2147483648 - v : v);
        return Math.abs(key(i32[0]) - key(i32[1]));
      };
      const problems = [];
      for (const [rows, cols] of [[3, 63], [3, 64], [2, 65], [5, 1000], [1, 70001], [40, 4097]]) {
        const x = a.alloc('float32', rows * cols);
        for (let i = 0; i < x.length; i++) x[i] = (rand() - 0.5) * 20;
        const o = a.alloc('float32', rows), r = a.alloc('float32', rows);
        a.reduce('Sum', x, [rows, cols], [1], o);
        a.reduceRef('Sum', x, [rows, cols], [1], r);
        for (let i = 0; i < rows; i++) if (!(Math.abs(o[i] - r[i]) <= 1e-6 + 1e-6 * Math.abs(r[i]))) problems.push('Sum [' + rows + ', ' + cols + '] row ' + i + ': ' + o[i] + ' vs ' + r[i]);
      }
      let exact = 0, total = 0;
      for (const [rows, cols] of [[3, 7], [5, 17], [4, 100], [600, 1024], [2, 1031]]) {
        const x = a.alloc('float32', rows * cols);
        for (let i = 0; i < x.length; i++) x[i] = -150 * rand() ** 3;
        x[3] = NaN;
        x[cols + 1] = -Infinity;
        const o = a.alloc('float32', rows * cols), r = a.alloc('float32', rows * cols);
        a.softmax(x, [rows, cols], o);
        a.softmaxRef(x, [rows, cols], r);
        for (let i = 0; i < o.length; i++) {
          const d = ulps(o[i], r[i]);
          if (d > 1) { problems.push('Softmax [' + rows + ', ' + cols + '] element ' + i + ': ' + o[i] + ' vs ' + r[i]); break; }
          if (d === 0) exact++;
          total++;
        }
      }
      console.log(a.buildInfo().isa);
      console.log(JSON.stringify({ problems, exact: exact / total }));
    `;
    for (const isa of ['generic', 'avx2']) {
      const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TESSERA_ISA: isa }, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      const [isaLine, resultLine] = child.stdout.trim().split('\n');
      expect(isaLine).toBe(isa);
      const result = JSON.parse(resultLine) as { problems: string[]; exact: number };
      expect(result.problems, isa).toEqual([]);
      expect(result.exact, isa).toBeGreaterThan(0.999);
    }
  });
});

describe('cumsum and cumprod', () => {
  function checkScan(op: ScanOp, shape: number[], dtype: DType, values: number[], axis: number, exclusive: boolean, reverse: boolean): void {
    const x = array(values, shape, dtype);
    const out = (op === 'Cumsum' ? cumsum : cumprod)(x, axis, exclusive, reverse);
    const ref = scanRef(op, x, axis, exclusive, reverse);
    const [expected] = tfjsKernel('cpu', op, { x: { values, shape, dtype } }, { axis, exclusive, reverse });
    const what = `${op} ${dtype} [${shape}] axis ${axis} exclusive ${exclusive} reverse ${reverse}`;
    expect(out.shape, what).toEqual(expected.shape);
    expect(out.dtype, what).toBe(expected.dtype);
    expectSame(out.data, ref.data, `${what} vs ref`);
    expectSame(out.data, expected.values, `${what} vs tfjs`);
    for (const a of [x, out, ref]) a.dispose();
  }

  for (const op of ['Cumsum', 'Cumprod'] as ScanOp[]) {
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      it(`${op} ${dtype}: every axis, exclusive and reverse, exactly as tfjs`, () => {
        const rand = rng(op.length * 3 + dtype.length);
        for (let rank = 1; rank <= 4; rank++) {
          const shape = randomShape(rand, rank, 5);
          for (let axis = 0; axis < rank; axis++) {
            for (const exclusive of [false, true]) {
              for (const reverse of [false, true]) {
                const values = op === 'Cumprod' ? randomValues(rand, size(shape), dtype, -3, 3) : randomValues(rand, size(shape), dtype);
                checkScan(op, shape, dtype, values, axis, exclusive, reverse);
              }
            }
          }
        }
      });
    }
  }

  it('int32 overflow, NaN, long rows and columns, empty', () => {
    checkScan('Cumprod', [6], 'int32', [65536, 65536, 3, 100000, 100000, 7], 0, false, false);
    checkScan('Cumprod', [5], 'int32', [2147483647, 2147483647, 2147483647, 3, -1], 0, false, false);
    checkScan('Cumsum', [4], 'int32', [2147483647, 1, 2147483647, 5], 0, false, true);
    checkScan('Cumsum', [5], 'float32', [1, NaN, 2, Infinity, -Infinity], 0, true, false);
    checkScan('Cumsum', [4], 'float32', [1e8, 1, -1e8, 1], 0, false, false);
    const rand = rng(3);
    checkScan('Cumsum', [3, 5000], 'float32', randomValues(rand, 15000, 'float32'), 1, false, true);
    checkScan('Cumsum', [5000, 3], 'float32', randomValues(rand, 15000, 'float32'), 0, true, false);
    checkScan('Cumsum', [200, 3000], 'float32', randomValues(rand, 600000, 'float32'), 0, false, false);
    checkScan('Cumsum', [0, 3], 'float32', [], 0, false, false);
    checkScan('Cumprod', [3, 0], 'int32', [], 1, false, false);
  });
});

describe('topK', () => {
  function checkTopK(shape: number[], dtype: DType, values: number[], k: number, sorted: boolean, againstRef: boolean): void {
    const x = array(values, shape, dtype);
    const out = topK(x, k, sorted);
    const [expectedValues, expectedIndices] = tfjsKernel('cpu', 'TopK', { x: { values, shape, dtype } }, { k, sorted });
    const what = `TopK ${dtype} [${shape}] k ${k} sorted ${sorted}`;
    expect(out.values.shape, what).toEqual(expectedValues.shape);
    expectSame(out.values.data, expectedValues.values, `${what} values vs tfjs`);
    expectSame(out.indices.data, expectedIndices.values, `${what} indices vs tfjs`);
    if (againstRef) {
      const ref = topKRef(x, k);
      expectSame(out.values.data, ref.values.data, `${what} values vs ref`);
      expectSame(out.indices.data, ref.indices.data, `${what} indices vs ref`);
      ref.values.dispose();
      ref.indices.dispose();
    }
    for (const a of [x, out.values, out.indices]) a.dispose();
  }

  it('random rows with many ties, every k, sorted and not, as tfjs and the reference', () => {
    const rand = rng(41);
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      for (const shape of [[1], [7], [3, 12], [2, 2, 30], [2, 700], [1, 2500]]) {
        const last = shape[shape.length - 1];
        for (const k of new Set([0, 1, 2, Math.floor(last / 3), last - 1, last].filter((v) => v >= 0 && v <= last))) {
          const values = randomValues(rand, size(shape), dtype, -4, 4);
          checkTopK(shape, dtype, values, k, true, true);
          checkTopK(shape, dtype, values, k, false, false);
        }
      }
    }
  });

  it('NaN and repeated infinities land exactly where tfjs puts them (selection and V8 sort order)', () => {
    const rand = rng(43);
    const special = [NaN, Infinity, -Infinity, 0, -0, 1];
    for (const n of [2, 5, 9, 10, 11, 40, 64, 65, 200, 700, 1500]) {
      for (const k of new Set([1, Math.floor(n / 2), n - 1, n])) {
        for (const density of [0.1, 0.5, 0.9]) {
          const values = Array.from({ length: 2 * n }, () => (rand() < density ? special[Math.floor(rand() * special.length)] : Math.round(rand() * 20 - 10)));
          checkTopK([2, n], 'float32', values, k, true, false);
          checkTopK([2, n], 'float32', values, k, false, false);
        }
      }
    }
  });

  it('long sorted runs exercise V8 sort merges and galloping with NaN', () => {
    const rand = rng(47);
    for (const n of [300, 1000, 3000]) {
      // Ascending and descending stretches with NaN sprinkled in: natural runs, then gallops.
      const values = Array.from({ length: n }, (_, i) => (rand() < 0.05 ? NaN : i % 500 < 250 ? i : -i));
      checkTopK([n], 'float32', values, n, true, false);
      checkTopK([n], 'float32', values, Math.floor(n / 2), true, false);
    }
  });
});

describe('through the tessera-cpu backend', () => {
  it('the tfjs ops give tfjs-backend-cpu results and leak no tensors', () => {
    const rand = rng(51);
    const shape = [4, 6, 5];
    const values = randomValues(rand, size(shape), 'float32');
    const ops: [string, (t: tf.Tensor) => tf.Tensor | tf.Tensor[]][] = [
      ['sum', (t) => tf.sum(t, [0, 2])],
      ['mean', (t) => tf.mean(t, -1, true)],
      ['prod', (t) => tf.prod(t, 1)],
      ['max', (t) => tf.max(t, [2, 0])],
      ['min', (t) => tf.min(t)],
      ['all', (t) => tf.all(tf.greater(t, -9), 1)],
      ['any', (t) => tf.any(tf.greater(t, 9), [0, 1])],
      ['argMax', (t) => tf.argMax(t, 1)],
      ['argMin', (t) => tf.argMin(t, -1)],
      ['softmax', (t) => tf.softmax(t)],
      ['logSoftmax', (t) => tf.logSoftmax(t)],
      ['cumsum', (t) => tf.cumsum(t, 1, true, true)],
      ['cumprod', (t) => tf.cumprod(t, 2)],
      ['topk', (t) => { const r = tf.topk(t, 3); return [r.values, r.indices]; }],
      ['sum of bool', (t) => tf.sum(tf.greater(t, 0), 0)],
      ['sum of int32', (t) => tf.sum(tf.cast(t, 'int32'), 2)],
      ['bias gradient: sum over the leading axes', (t) => tf.sum(tf.reshape(t, [-1, 5]), 0)],
    ];
    const results = (backend: string) => {
      tf.setBackend(backend);
      return ops.map(([, f]) => tf.tidy(() => [f(tf.tensor(values, shape))].flat().map((o) => ({ shape: o.shape, dtype: o.dtype, data: Array.from(o.dataSync() as ArrayLike<number>) }))));
    };
    const expected = results('cpu');
    tf.setBackend('tessera-cpu');
    const before = tf.memory().numTensors;
    const actual = results('tessera-cpu');
    expect(tf.memory().numTensors).toBe(before);
    ops.forEach(([name], i) => {
      actual[i].forEach((out, j) => {
        expect(out.shape, name).toEqual(expected[i][j].shape);
        expect(out.dtype, name).toBe(expected[i][j].dtype);
        expectClose(out.data, expected[i][j].data, out.dtype as DType, { abs: 1e-6, rel: 1e-6 });
      });
    });
  });

  it('kernels the native code does not take fall back to tfjs-backend-cpu', () => {
    tf.setBackend('tessera-cpu');
    // Max over a duplicated axis and Softmax over a non-last dim are tfjs-backend-cpu's to answer.
    const [viaFallback] = tfjsKernel('tessera-cpu', 'All', { x: { values: [1, 0, 2], shape: [3], dtype: 'int32' } }, { axis: 0, keepDims: false });
    const [cpu] = tfjsKernel('cpu', 'All', { x: { values: [1, 0, 2], shape: [3], dtype: 'int32' } }, { axis: 0, keepDims: false });
    expect(viaFallback).toEqual(cpu);
    expect(() => tfjsKernel('tessera-cpu', 'Softmax', { logits: { values: [1, 2, 3, 4], shape: [2, 2], dtype: 'float32' } }, { dim: 0 })).toThrow(/non-last dimension/);
  });
});

describe('argument errors', () => {
  it('name the op, the argument, what was expected and what came', () => {
    const f = array([1, 2, 3, 4, 5, 6], [2, 3]);
    const i = array([1, 2], [2], 'int32');
    expect(() => reduce('Sum', f, 2)).toThrow('Sum: expected integer axes in [-2, 2) for axis but got number 2');
    expect(() => reduce('Sum', f, [1, -1])).toThrow('Sum: expected distinct axes for axis but got axis 1 twice');
    expect(() => reduce('Sum', f, 0.5)).toThrow('Sum: expected integer axes in [-2, 2) for axis but got number 0.5');
    expect(() => reduce('All', f)).toThrow('All: expected dtype bool for x but got float32');
    expect(() => reduce('Max', [1, 2] as never)).toThrow('Max: expected a DeviceArray for x but got a plain array');
    expect(() => reduce('Sum', f, 0, 'yes' as never)).toThrow('Sum: expected a boolean for keepDims but got string yes');
    expect(() => argMax(f, [0, 1] as never)).toThrow('ArgMax: expected an integer axis for axis but got a plain array');
    expect(() => softmax(i)).toThrow('Softmax: expected dtype float32 for logits but got int32');
    expect(() => cumsum(f, 2)).toThrow('Cumsum: expected an axis in [-2, 2) for axis but got 2');
    expect(() => cumsum(f, 0, 1 as never)).toThrow('Cumsum: expected a boolean for exclusive but got number 1');
    expect(() => topK(f, 4)).toThrow('TopK: expected k <= 3 (the last dimension) for k but got 4');
    expect(() => topK(f, -1)).toThrow('TopK: expected an integer >= 0 for k but got number -1');
    f.dispose();
    i.dispose();
  });

  it('the native layer checks what reaches it directly', async () => {
    const { native } = await import('../../src/native.js');
    const x = new Float32Array(6);
    expect(() => native.reduce('Sum', x, [2, 3], [0, 0], new Float32Array(3))).toThrow('Sum: expected distinct axes in [0, 2) for axes but got axis 0');
    expect(() => native.reduce('Sum', x, [2, 3], [0], new Float32Array(2))).toThrow('Sum: expected 3 elements for shape [3] for out but got 2');
    expect(() => native.reduce('Mean', new Int32Array(6), [2, 3], [0], new Int32Array(3))).toThrow('Mean: expected dtype float32 for out but got int32');
    expect(() => native.reduce('Median', x, [2, 3], [0], new Float32Array(3))).toThrow("reduce: unknown op 'Median'");
    expect(() => native.topK(x, [2, 3], 4, true, new Float32Array(8), new Int32Array(8))).toThrow('topK: expected an integer in [0, 3] for k but got 4');
  });
});
