// tessera-webgpu reductions (kernels/wgsl/reduce.wgsl) and softmax (kernels/wgsl/softmax.wgsl)
// against tessera-cpu: random shapes, axes and keepDims in every dtype, empty reductions,
// NaN and infinities, long rows split over workgroups, many short rows, the 2-D grid, and
// GPU buffer leaks. Every case asserts that the kernel ran on the GPU (dispatches recorded,
// output resident there), so a silent fallback to tessera-cpu cannot pass.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { MAX_WORKGROUPS, planReduce } from '../../src/backend/webgpu/kernels/reduce.js';
import { softmaxLanes } from '../../src/backend/webgpu/kernels/softmax.js';
import { expectClose, randomShape, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, webgpuBackend } from './setup.js';

type DType = 'float32' | 'int32' | 'bool';
type Tol = { abs?: number; rel?: number };

/**
 * Runs `f` on tessera-cpu and on tessera-webgpu; asserts the GPU ran it in at least
 * `minDispatches` dispatches with its output on the GPU, and the same shape, dtype and values.
 */
async function expectSameAsCpu(label: string, f: () => tf.Tensor, tol: Tol = {}, minDispatches = 1, outputOnGpu = true): Promise<void> {
  const want = await onCpu(() => tf.tidy(f));
  const backend = webgpuBackend();
  const before = backend.device.stats().dispatches;
  const got = tf.tidy(f);
  try {
    const dispatched = backend.device.stats().dispatches - before;
    if (want.values.length > 0) expect(dispatched, `${label}: dispatches on the GPU`).toBeGreaterThanOrEqual(minDispatches);
    if (outputOnGpu) expect(backend.isOnGpu(got), `${label}: output on the GPU`).toBe(true);
    expect(got.shape, label).toEqual(want.shape);
    expect(got.dtype, label).toBe(want.dtype);
    const values = got.dataSync() as ArrayLike<number>;
    try {
      expectClose(values, want.values as ArrayLike<number>, got.dtype as DType, tol);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`);
    }
  } finally {
    got.dispose();
  }
}

/** A random subset of the axes of a rank-`rank` tensor, each maybe negative, in random order; or null (every axis). */
function randomAxes(rand: () => number, rank: number): number[] | null {
  if (rand() < 0.15) return null;
  const axes = Array.from({ length: rank }, (_, i) => i).filter(() => rand() < 0.5);
  for (let i = axes.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [axes[i], axes[j]] = [axes[j], axes[i]];
  }
  return axes.map((a) => (rand() < 0.3 ? a - rank : a));
}

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

type ReduceFn = (x: tf.Tensor, axis: number[] | null, keepDims: boolean) => tf.Tensor;
const run = (kernel: string, attr = 'axis'): ReduceFn => (x, axis, keepDims) =>
  tf.engine().runKernel(kernel, { x }, { [attr]: axis, keepDims }) as tf.Tensor;

// Through the kernels directly, so that every dtype reaches them (tf.sum and tf.prod cast
// bool to int32 first).
const REDUCTIONS: Array<[string, ReduceFn, DType[]]> = [
  ['Sum', run('Sum'), ['float32', 'int32', 'bool']],
  ['Prod', run('Prod'), ['float32', 'int32', 'bool']],
  ['Mean', run('Mean'), ['float32', 'int32', 'bool']],
  ['Max', run('Max', 'reductionIndices'), ['float32', 'int32', 'bool']],
  ['Min', run('Min'), ['float32', 'int32', 'bool']],
  ['All', run('All'), ['bool']],
  ['Any', run('Any'), ['bool']],
];

/** Values for `op`: products kept small enough that float32 and int32 do not overflow. */
function valuesFor(rand: () => number, op: string, n: number, dtype: DType): number[] {
  if (op === 'Prod' && dtype === 'float32') return randomValues(rand, n, dtype, 0.6, 1.5);
  if (op === 'Prod' && dtype === 'int32') return randomValues(rand, n, dtype).map((v) => (v % 7 === 0 ? (v < 0 ? -2 : 2) : v < 0 ? -1 : 1));
  return randomValues(rand, n, dtype);
}

function tolFor(op: string, dtype: DType, reduced: number): Tol {
  if (dtype !== 'float32' && op !== 'Mean') return {};
  // Sums of up to `reduced` values of magnitude <= 10, in a different order than the CPU's.
  if (op === 'Sum' || op === 'Mean') return { rel: 1e-5, abs: 1e-6 * 10 * Math.max(1, reduced) };
  if (op === 'Prod') return { rel: 1e-5 * Math.max(1, reduced), abs: 1e-30 };
  return { abs: 0, rel: 0 };
}

describeWebGpu('tessera-webgpu reductions', () => {
  let liveBefore = 0;
  beforeEach(() => {
    liveBefore = webgpuBackend().device.stats().liveBuffers;
  });
  afterEach(() => {
    expect(webgpuBackend().device.stats().liveBuffers, 'live GPU buffers after the test').toBe(liveBefore);
  });

  it('match tessera-cpu on random shapes, axes and keepDims, every dtype', async () => {
    const rand = rng(20240611);
    for (const [op, fn, dtypes] of REDUCTIONS) {
      for (const dtype of dtypes) {
        for (let trial = 0; trial < 6; trial++) {
          const rank = Math.floor(rand() * 6);
          const shape = randomShape(rand, rank, 7);
          const axes = randomAxes(rand, rank);
          const keepDims = rand() < 0.5;
          const values = valuesFor(rand, op, size(shape), dtype);
          const reduced = axes === null ? size(shape) : axes.reduce((p, a) => p * shape[a < 0 ? a + rank : a], 1);
          await expectSameAsCpu(`${op} ${dtype} [${shape}] axes ${JSON.stringify(axes)} keepDims ${keepDims}`,
            () => fn(tf.tensor(values, shape, dtype), axes, keepDims), tolFor(op, dtype, reduced));
        }
      }
    }
  });

  it('argMax and argMin match tessera-cpu on random shapes and axes, every dtype, ties included', async () => {
    const rand = rng(777);
    for (const op of [tf.argMax, tf.argMin]) {
      for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
        for (let trial = 0; trial < 8; trial++) {
          const rank = 1 + Math.floor(rand() * 5);
          const shape = randomShape(rand, rank, 7);
          const axis = Math.floor(rand() * rank) - (rand() < 0.3 ? rank : 0);
          // Few distinct values: many ties, where the first index must win.
          const values = randomValues(rand, size(shape), dtype, -3, 3).map((v) => (dtype === 'float32' ? Math.round(v) : v));
          await expectSameAsCpu(`${op.name} ${dtype} [${shape}] axis ${axis}`, () => op(tf.tensor(values, shape, dtype), axis));
        }
      }
    }
  });

  it('reduce over axes in any order and position: leading, trailing, middle, interleaved', async () => {
    const rand = rng(99);
    const shape = [3, 4, 5, 6, 7];
    const values = randomValues(rand, size(shape), 'float32');
    const cases: number[][] = [[0], [4], [2], [0, 4], [1, 3], [0, 2, 4], [3, 1], [-1, 0], [1, 2, 3], [0, 1, 2, 3, 4], []];
    for (const axes of cases) {
      for (const keepDims of [false, true]) {
        await expectSameAsCpu(`sum [${shape}] axes [${axes}] keepDims ${keepDims}`, () => tf.sum(tf.tensor(values, shape), axes, keepDims), { rel: 1e-5, abs: 1e-4 });
        await expectSameAsCpu(`max [${shape}] axes [${axes}]`, () => tf.max(tf.tensor(values, shape), axes, keepDims));
      }
    }
    // Reduced dims of extent 1 next to others; a scalar.
    await expectSameAsCpu('sum [1,5,1,3] axes [0,2]', () => tf.sum(tf.tensor(values.slice(0, 15), [1, 5, 1, 3]), [0, 2]));
    await expectSameAsCpu('mean [1,5,1,3] axes [0,2,3]', () => tf.mean(tf.tensor(values.slice(0, 15), [1, 5, 1, 3]), [0, 2, 3], true));
    await expectSameAsCpu('sum of a scalar', () => tf.sum(tf.scalar(2.5)));
    await expectSameAsCpu('argMax of [1]', () => tf.argMax(tf.tensor([4]), 0));
    await expectSameAsCpu('sum bool over an extent-1 axis', () => run('Sum')(tf.tensor([true, false, true], [3, 1], 'bool'), [1], false));
  });

  it('empty reductions give tfjs-backend-cpu values: 0, 1, NaN or 0 for max/min, 0 for all/any/argMax', async () => {
    const x = () => tf.zeros([3, 0, 2]);
    const cases: Array<[string, () => tf.Tensor, number[]]> = [
      ['sum', () => tf.sum(x(), 1), [0, 0, 0, 0, 0, 0]],
      ['prod', () => tf.prod(x(), 1), [1, 1, 1, 1, 1, 1]],
      ['mean', () => tf.mean(x(), 1), [0, 0, 0, 0, 0, 0]],
      ['max', () => tf.max(x(), 1), [NaN, NaN, NaN, NaN, NaN, NaN]],
      ['min', () => tf.min(x(), [1]), [NaN, NaN, NaN, NaN, NaN, NaN]],
      ['max int32', () => tf.max(tf.zeros([2, 0], 'int32'), 1), [0, 0]],
      ['min bool', () => tf.min(tf.zeros([2, 0], 'bool'), 1), [0, 0]],
      ['all', () => tf.all(tf.zeros([2, 0], 'bool'), 1), [0, 0]],
      ['any', () => tf.any(tf.zeros([2, 0], 'bool'), 1), [0, 0]],
      ['argMax', () => tf.argMax(x(), 1), [0, 0, 0, 0, 0, 0]],
      ['argMin', () => tf.argMin(tf.zeros([0, 4]), 0), [0, 0, 0, 0]],
      ['sum keepDims', () => tf.sum(x(), [1, 2], true), [0, 0, 0]],
      ['sum of everything', () => tf.sum(x()), [0]],
    ];
    for (const [label, f, expected] of cases) {
      await expectSameAsCpu(`empty ${label}`, f);
      const t = tf.tidy(f);
      expectClose(t.dataSync() as ArrayLike<number>, expected, t.dtype as DType);
      t.dispose();
    }
    // No outputs at all: an empty result without a dispatch.
    const backend = webgpuBackend();
    const before = backend.device.stats().dispatches;
    const e = tf.tidy(() => tf.sum(tf.zeros([0, 5]), 1));
    expect(e.shape).toEqual([0]);
    expect(e.dataSync().length).toBe(0);
    expect(backend.device.stats().dispatches).toBe(before);
    e.dispose();
  });

  it('NaN propagates through max, min, sum and mean; argMax/argMin keep a NaN first element and skip later ones', async () => {
    const x = [
      [1, NaN, 3, 2],
      [NaN, 1, 5, 0],
      [Infinity, -Infinity, 0, 1],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [2, 7, 7, 2],
      [NaN, NaN, NaN, NaN],
    ];
    const t = () => tf.tensor(x);
    const check = async (label: string, f: () => tf.Tensor, expected: number[]) => {
      await expectSameAsCpu(label, f);
      const r = tf.tidy(f);
      try {
        expectClose(r.dataSync() as ArrayLike<number>, expected, r.dtype as DType);
      } finally {
        r.dispose();
      }
    };
    await check('max', () => tf.max(t(), 1), [NaN, NaN, Infinity, -Infinity, 7, NaN]);
    await check('min', () => tf.min(t(), 1), [NaN, NaN, -Infinity, -Infinity, 2, NaN]);
    await check('sum', () => tf.sum(t(), 1), [NaN, NaN, NaN, -Infinity, 18, NaN]);
    await check('mean', () => tf.mean(t(), 1), [NaN, NaN, NaN, -Infinity, 4.5, NaN]);
    await check('argMax', () => tf.argMax(t(), 1), [2, 0, 0, 0, 1, 0]);
    await check('argMin', () => tf.argMin(t(), 1), [0, 0, 1, 0, 0, 0]);
    await check('max over columns', () => tf.max(t(), 0), [NaN, NaN, NaN, NaN]);
    await check('argMax over columns', () => tf.argMax(t(), 0), [2, 0, 4, 0]);
    await check('argMin over columns', () => tf.argMin(t(), 0), [3, 0, 3, 3]);
  });

  it('long rows (> 1M elements) are split over many workgroups and a second pass', async () => {
    const rand = rng(5);
    const n = (1 << 20) + 4099;
    expect(planReduce(1, n, 1).chunks).toBeGreaterThan(1);
    expect(planReduce(1, n, 1).workgroups).toBeGreaterThanOrEqual(64);
    const positive = Float32Array.from({ length: n }, () => rand());
    await expectSameAsCpu('sum 1M', () => tf.sum(tf.tensor(positive)), { rel: 1e-5 }, 2);
    await expectSameAsCpu('mean 1M', () => tf.mean(tf.tensor(positive)), { rel: 1e-5 }, 2);
    const ints = Int32Array.from({ length: n }, () => Math.floor(rand() * 2001) - 1000);
    await expectSameAsCpu('sum int32 1M', () => tf.sum(tf.tensor(ints, [n], 'int32')), {}, 2);
    await expectSameAsCpu('max int32 1M', () => tf.max(tf.tensor(ints, [n], 'int32')), {}, 2);
    // The largest value twice, in different chunks: the first index wins across partials.
    const planted = positive.slice();
    planted[700001] = 5;
    planted[12345] = 5;
    planted[999999] = -5;
    await expectSameAsCpu('argMax 1M', () => tf.argMax(tf.tensor(planted)), {}, 2);
    await expectSameAsCpu('argMin 1M', () => tf.argMin(tf.tensor(planted)), {}, 2);
    await expectSameAsCpu('max 1M', () => tf.max(tf.tensor(planted)), {}, 2);
    const argMax = tf.tidy(() => tf.argMax(tf.tensor(planted)));
    expect(argMax.dataSync()[0]).toBe(12345);
    argMax.dispose();
    // NaN: first element wins argMax; a NaN anywhere makes max NaN.
    const nanFirst = positive.slice();
    nanFirst[0] = NaN;
    nanFirst[800000] = 9;
    await expectSameAsCpu('argMax NaN first 1M', () => tf.argMax(tf.tensor(nanFirst)), {}, 2);
    const nanLater = positive.slice();
    nanLater[900000] = NaN;
    nanLater[800000] = 9;
    await expectSameAsCpu('argMax NaN later 1M', () => tf.argMax(tf.tensor(nanLater)), {}, 2);
    await expectSameAsCpu('max NaN later 1M', () => tf.max(tf.tensor(nanLater)), {}, 2);
    // Long strided columns: [n/4, 4] over axis 0, and a few long rows.
    await expectSameAsCpu('sum columns', () => tf.sum(tf.tensor(positive.subarray(0, (n >> 2) * 4), [n >> 2, 4]), 0), { rel: 1e-5 }, 2);
    await expectSameAsCpu('argMax columns', () => tf.argMax(tf.tensor(planted.subarray(0, (n >> 3) * 8), [n >> 3, 8]), 0), {}, 2);
    await expectSameAsCpu('max rows', () => tf.max(tf.tensor(positive.subarray(0, 4 * 250000), [4, 250000]), 1), {}, 2);
    // Wide columns: one invocation per column, the rows split into chunks and a second pass.
    const wide = planReduce(16400, 40, 16400);
    expect(wide.lanes).toBe(1);
    expect(wide.chunks).toBeGreaterThan(1);
    const cols = Float32Array.from({ length: 40 * 16400 }, () => Math.round(rand() * 6));
    cols[17 * 16400 + 5] = NaN;
    cols[16400 + 6] = NaN;
    await expectSameAsCpu('sum wide columns', () => tf.sum(tf.tensor(cols, [40, 16400]), 0), { rel: 1e-6 }, 2);
    await expectSameAsCpu('max wide columns', () => tf.max(tf.tensor(cols, [40, 16400]), 0), {}, 2);
    await expectSameAsCpu('argMax wide columns', () => tf.argMax(tf.tensor(cols, [40, 16400]), 0), {}, 2);
    await expectSameAsCpu('argMin wide columns', () => tf.argMin(tf.tensor(cols, [40, 16400]), 0), {}, 2);
    await expectSameAsCpu('all bool 1M', () => tf.all(tf.tensor(Uint8Array.from(ints, (v) => (v === 17 ? 0 : 1)), [n], 'bool')), {}, 2);
  });

  it('many short rows', async () => {
    const rand = rng(6);
    const rows = 200003;
    for (const len of [1, 2, 3, 7, 33]) {
      const values = Float32Array.from(randomValues(rand, rows * len, 'float32'));
      await expectSameAsCpu(`sum ${rows}x${len}`, () => tf.sum(tf.tensor(values, [rows, len]), 1), { rel: 1e-5, abs: 1e-4 });
      await expectSameAsCpu(`argMin ${rows}x${len}`, () => tf.argMin(tf.tensor(values, [rows, len]), 1));
      await expectSameAsCpu(`max columns ${len}x${rows}`, () => tf.max(tf.tensor(values, [len, rows]), 0));
    }
  });

  it('millions of outputs: a capped grid of workgroups takes the tiles in a strided loop', async () => {
    const rows = 256 * 20000 + 5;
    expect(planReduce(rows, 1, 1).tiles).toBeGreaterThan(MAX_WORKGROUPS);
    expect(planReduce(rows, 1, 1).workgroups).toBe(MAX_WORKGROUPS);
    const values = Float32Array.from({ length: rows }, (_, i) => (i % 1000) - 500);
    const backend = webgpuBackend();
    const before = backend.device.stats().dispatches;
    const x = tf.tensor(values, [rows, 1]);
    const m = tf.max(x, 1);
    expect(backend.device.stats().dispatches).toBe(before + 1);
    const got = m.dataSync();
    expect(got.length).toBe(rows);
    expect(got.every((v, i) => v === values[i])).toBe(true);
    tf.dispose([x, m]);
    // Rows through the tree, many tiles per workgroup.
    const rand = rng(9);
    const wide = Float32Array.from(randomValues(rand, 100003 * 40, 'float32'));
    expect(planReduce(100003, 40, 1).lanes).toBeGreaterThan(1);
    expect(planReduce(100003, 40, 1).tiles).toBeGreaterThan(MAX_WORKGROUPS);
    await expectSameAsCpu('sum 100003x40', () => tf.sum(tf.tensor(wide, [100003, 40]), 1), { rel: 1e-5, abs: 1e-4 });
    await expectSameAsCpu('argMax 100003x40', () => tf.argMax(tf.tensor(wide, [100003, 40]), 1));
  });

  it('ops built on reductions: logSoftmax, moments, norm', async () => {
    // Their last kernel may be one without WGSL yet (Log, Sqrt): the reductions inside still
    // dispatch on the GPU.
    const rand = rng(8);
    const values = randomValues(rand, 6 * 50, 'float32');
    const x = () => tf.tensor(values, [6, 50]);
    await expectSameAsCpu('logSoftmax', () => tf.logSoftmax(x()), { rel: 1e-5, abs: 1e-5 }, 2, false);
    await expectSameAsCpu('moments mean', () => tf.moments(x(), [0]).mean, { rel: 1e-5, abs: 1e-5 });
    await expectSameAsCpu('moments variance', () => tf.moments(x(), [1], true).variance, { rel: 1e-5, abs: 1e-5 }, 2, false);
    await expectSameAsCpu('euclidean norm', () => tf.norm(x(), 'euclidean', 1), { rel: 1e-5 }, 1, false);
    await expectSameAsCpu('inf norm', () => tf.norm(x(), Infinity), { rel: 1e-6 }, 1, false);
    await expectSameAsCpu('1-norm', () => tf.norm(x(), 1, 0), { rel: 1e-5 }, 1, false);
  });

  it('All and Any of non-bool inputs (which tfjs ops never pass) run on tessera-cpu', async () => {
    const x = tf.tensor([0, 1, 2, 0], [2, 2]);
    const all = tf.engine().runKernel('All', { x }, { axis: 1, keepDims: false }) as tf.Tensor;
    const any = tf.engine().runKernel('Any', { x }, { axis: 1, keepDims: false }) as tf.Tensor;
    expect(webgpuBackend().isOnGpu(all)).toBe(false);
    const want = await onCpu(() => tf.engine().runKernel('Any', { x: tf.tensor([0, 1, 2, 0], [2, 2]) }, { axis: 1, keepDims: false }) as tf.Tensor);
    expect([...all.dataSync()]).toEqual([0, 0]);
    expect([...any.dataSync()]).toEqual([...(want.values as ArrayLike<number>)]);
    tf.dispose([x, all, any]);
  });
});

describeWebGpu('tessera-webgpu softmax', () => {
  let liveBefore = 0;
  beforeEach(() => {
    liveBefore = webgpuBackend().device.stats().liveBuffers;
  });
  afterEach(() => {
    expect(webgpuBackend().device.stats().liveBuffers, 'live GPU buffers after the test').toBe(liveBefore);
  });
  const tol = { rel: 2e-5, abs: 1e-7 };

  it('matches tessera-cpu on random shapes and row lengths', async () => {
    const rand = rng(31);
    for (let trial = 0; trial < 12; trial++) {
      const rank = 1 + Math.floor(rand() * 4);
      const shape = randomShape(rand, rank, 9);
      const values = randomValues(rand, size(shape), 'float32', -20, 20);
      await expectSameAsCpu(`softmax [${shape}]`, () => tf.softmax(tf.tensor(values, shape)), tol);
    }
    for (const n of [1, 4, 5, 255, 256, 257, 1000, 1025, 5000]) {
      const values = randomValues(rand, 3 * n, 'float32', -30, 30);
      await expectSameAsCpu(`softmax [3, ${n}]`, () => tf.softmax(tf.tensor(values, [3, n])), tol);
      await expectSameAsCpu(`softmax [3, ${n}] dim 1`, () => tf.softmax(tf.tensor(values, [3, n]), 1), tol);
    }
  });

  it('many short rows and one long row', async () => {
    const rand = rng(32);
    expect(softmaxLanes(3)).toBe(1);
    expect(softmaxLanes(40)).toBeGreaterThan(1);
    expect(softmaxLanes(1 << 20)).toBe(256);
    const short = Float32Array.from(randomValues(rand, 150001 * 5, 'float32', -5, 5));
    await expectSameAsCpu('softmax 150001x5', () => tf.softmax(tf.tensor(short, [150001, 5])), tol);
    const medium = Float32Array.from(randomValues(rand, 50001 * 40, 'float32', -5, 5));
    await expectSameAsCpu('softmax 50001x40', () => tf.softmax(tf.tensor(medium, [50001, 40])), tol);
    const n = (1 << 20) + 3;
    const long = Float32Array.from({ length: n }, () => rand() * 10);
    await expectSameAsCpu('softmax [1, 1M]', () => tf.softmax(tf.tensor(long, [1, n])), { rel: 1e-4, abs: 1e-12 });
  });

  it('NaN, infinities and large logits', async () => {
    const rows = [
      [1, 2, NaN, 4],
      [Infinity, 1, 2, 3],
      [-Infinity, 0, 1, -Infinity],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [1000, 1001, 999, -1000],
      [-1e30, 1e30, 0, 3],
      [0, 0, 0, 0],
    ];
    await expectSameAsCpu('softmax special values', () => tf.softmax(tf.tensor(rows)), tol);
    const r = tf.tidy(() => tf.softmax(tf.tensor(rows)));
    const v = r.dataSync();
    expect(Array.from(v.slice(0, 4)).every(Number.isNaN)).toBe(true);
    expect(Array.from(v.slice(12, 16)).every(Number.isNaN)).toBe(true);
    expect(v[8]).toBe(0);
    expect(v[11]).toBe(0);
    expectClose(v.slice(24, 28), [0.25, 0.25, 0.25, 0.25], 'float32');
    r.dispose();
  });

  it('empty logits give an empty result without a dispatch', () => {
    const backend = webgpuBackend();
    const before = backend.device.stats().dispatches;
    const e = tf.tidy(() => tf.softmax(tf.zeros([0, 3])));
    expect(e.shape).toEqual([0, 3]);
    e.dispose();
    const e2 = tf.tidy(() => tf.softmax(tf.zeros([4, 0])));
    expect(e2.shape).toEqual([4, 0]);
    e2.dispose();
    expect(backend.device.stats().dispatches).toBe(before);
  });
});
