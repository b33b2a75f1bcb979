// tessera-webgpu data-movement kernels (movement.wgsl, transpose_tiled.wgsl, tile, pad,
// concat, gather, gather_nd, onehot) against tessera-cpu on the same seeded random inputs:
// random shapes, permutations, axes, slices, masks and indices, every dtype, empty tensors,
// and sizes past 65535 workgroups. Data movement copies 32-bit words, so results must be
// bit-exact. Every case checks that no kernel fell back to tessera-cpu and that the result
// lives on the GPU; every test checks that no GPU buffer leaked.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

import { randomShape, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, watchKernels, webgpuBackend } from './setup.js';

type DType = 'float32' | 'int32' | 'bool';
const DTYPES: DType[] = ['float32', 'int32', 'bool'];

interface Input {
  values: number[];
  shape: number[];
  dtype: DType;
}

function input(rand: () => number, shape: number[], dtype: DType): Input {
  return { values: randomValues(rand, shape.reduce((p, d) => p * d, 1), dtype), shape, dtype };
}

function make(inputs: Input[]): tf.Tensor[] {
  return inputs.map((t) => tf.tensor(t.values, t.shape, t.dtype));
}

const randInt = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

function shuffle<T>(rand: () => number, items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Shader keys dispatched and tessera-cpu fallbacks taken while the suite runs. */
const seen = { keys: [] as string[], fallbacks: [] as string[] };

/**
 * Runs `op` on tessera-cpu and on tessera-webgpu (inputs uploaded first, so that even a
 * result sharing an input's storage must be on the GPU) and expects the same shape, dtype
 * and bits, no fallback, and a GPU-resident result.
 */
async function check(label: string, inputs: Input[], op: (...t: tf.Tensor[]) => tf.Tensor): Promise<tf.Tensor> {
  const want = await onCpu(() => tf.tidy(() => op(...make(inputs))));
  const backend = webgpuBackend();
  const ts = make(inputs);
  for (const t of ts) if (t.size > 0) backend.gpuBuffer(t);
  seen.fallbacks.length = 0;
  const got = op(...ts);
  tf.dispose(ts);
  // tfjs-core itself turns some calls into Identity (an identity permutation, a concat of
  // one tensor): that kernel is not this family's.
  expect(seen.fallbacks.filter((k) => k !== 'Identity'), `${label}: fell back to tessera-cpu`).toEqual([]);
  expect(got.shape, label).toEqual(want.shape);
  expect(got.dtype, label).toBe(want.dtype);
  if (got.size > 0) expect(backend.isOnGpu(got), `${label}: result on the GPU`).toBe(true);
  const values = got.dataSync();
  const expected = want.values as ArrayLike<number>;
  expect(values.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const same = Number.isNaN(expected[i]) ? Number.isNaN(values[i]) : Object.is(values[i], expected[i]) || values[i] === expected[i];
    if (!same) expect.fail(`${label}: element ${i}: expected ${expected[i]} but got ${values[i]}`);
  }
  return got;
}

describeWebGpu('tessera-webgpu data movement', () => {
  watchKernels(seen);

  it('transpose: random ranks 1-6, random permutations, every dtype', async () => {
    const rand = rng(101);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 12; trial++) {
        const rank = randInt(rand, 1, 6);
        const shape = randomShape(rand, rank, 5);
        const perm = shuffle(rand, [...Array(rank).keys()]);
        const got = await check(`transpose [${shape}] by [${perm}] ${dtype}`, [input(rand, shape, dtype)], (x) => tf.transpose(x, perm));
        got.dispose();
      }
    }
  });

  it('transpose: the last-two-dims swap takes the tiled shader, others the affine one', async () => {
    const rand = rng(102);
    const cases: Array<[number[], number[], string]> = [
      [[67, 45], [1, 0], 'transpose/tiled'],
      [[3, 40, 70], [0, 2, 1], 'transpose/tiled'],
      [[2, 9, 11, 16], [0, 3, 1, 2], 'transpose/tiled'], // NHWC -> NCHW: [2, 99, 16] swapped
      [[2, 16, 9, 11], [0, 2, 3, 1], 'transpose/tiled'], // NCHW -> NHWC
      [[4, 6, 8], [1, 0, 2], 'movement/affine/3/vec4'], // rows of 8 words move as vec4s
      [[5, 3, 7], [2, 0, 1], 'movement/affine/2/u32'], // [15, 7] swapped, but 15 x 7 is too thin for tiles... 7 < 8
      [[2, 3, 4, 5], [3, 1, 0, 2], 'movement/affine/4/u32'],
    ];
    for (const [shape, perm, key] of cases) {
      for (const dtype of DTYPES) {
        seen.keys = [];
        const got = await check(`transpose [${shape}] by [${perm}] ${dtype}`, [input(rand, shape, dtype)], (x) => tf.transpose(x, perm));
        expect(seen.keys, `transpose [${shape}] by [${perm}]`).toEqual([key]);
        got.dispose();
      }
    }
    // A permutation that only moves extent-1 dims moves nothing: the input's storage, shared.
    seen.keys = [];
    const x = tf.tensor([1, 2, 3], [1, 3, 1]);
    const y = tf.transpose(x, [2, 1, 0]);
    expect(y.shape).toEqual([1, 3, 1]);
    expect([...y.dataSync()]).toEqual([1, 2, 3]);
    expect(seen.keys).toEqual([]);
    tf.dispose([x, y]);
  });

  it('slice: random begins and sizes (including -1), every dtype; contiguous slices copy', async () => {
    const rand = rng(103);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 12; trial++) {
        const rank = randInt(rand, 1, 5);
        const shape = randomShape(rand, rank, 6);
        const begin = shape.map((d) => randInt(rand, 0, d - 1));
        const size = shape.map((d, i) => (rand() < 0.2 ? -1 : randInt(rand, 0, d - begin[i])));
        const got = await check(`slice [${shape}] at [${begin}] size [${size}] ${dtype}`, [input(rand, shape, dtype)], (x) => tf.slice(x, begin, size));
        got.dispose();
      }
    }
    // Leading dims sliced, the rest whole: one contiguous run, a buffer copy (no shader).
    seen.keys = [];
    const got = await check('contiguous slice', [input(rand, [6, 5, 4], 'float32')], (x) => tf.slice(x, [2, 0, 0], [3, 5, 4]));
    expect(seen.keys).toEqual([]);
    got.dispose();
  });

  it('stridedSlice: random begin/end/strides (negative too) and masks, every dtype', async () => {
    const rand = rng(104);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 16; trial++) {
        const rank = randInt(rand, 1, 4);
        const shape = randomShape(rand, rank, 7);
        const begin = shape.map((d) => randInt(rand, -d, d));
        const end = shape.map((d) => randInt(rand, -d - 1, d + 1));
        const strides = shape.map(() => (rand() < 0.5 ? 1 : randInt(rand, -3, 3) || 2));
        const beginMask = randInt(rand, 0, (1 << rank) - 1) & randInt(rand, 0, (1 << rank) - 1);
        const endMask = randInt(rand, 0, (1 << rank) - 1) & randInt(rand, 0, (1 << rank) - 1);
        // Shrink an axis (stride 1 and a valid begin there, as tfjs requires).
        let shrinkAxisMask = 0;
        if (trial % 4 === 3) {
          const axis = randInt(rand, 0, rank - 1);
          shrinkAxisMask = 1 << axis;
          strides[axis] = 1;
          begin[axis] = randInt(rand, -shape[axis], shape[axis] - 1);
        }
        const label = `stridedSlice [${shape}] ${begin}:${end}:${strides} masks ${beginMask},${endMask},${shrinkAxisMask} ${dtype}`;
        const got = await check(label, [input(rand, shape, dtype)], (x) => tf.stridedSlice(x, begin, end, strides, beginMask, endMask, 0, 0, shrinkAxisMask));
        got.dispose();
      }
    }
    // Ellipsis and new axes.
    const got = await check('stridedSlice ellipsis/newAxis', [input(rand, [3, 4, 5], 'float32')],
      (x) => tf.stridedSlice(x, [0, 1, 0], [0, 3, 0], [1, -1, 1], 0, 0, 1, 4, 0));
    got.dispose();
  });

  it('split and unstack: random axes and split sizes, every dtype', async () => {
    const rand = rng(114);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 8; trial++) {
        const rank = randInt(rand, 1, 4);
        const shape = randomShape(rand, rank, 6);
        const axis = randInt(rand, -rank, rank - 1);
        const a = axis < 0 ? axis + rank : axis;
        const sizes: number[] = [];
        for (let left = shape[a]; left > 0;) {
          const s = randInt(rand, 0, left);
          sizes.push(s);
          left -= s;
        }
        if (rand() < 0.3) sizes.push(-1);
        const x = input(rand, shape, dtype);
        for (let k = 0; k < sizes.length; k++) {
          const got = await check(`split [${shape}] by [${sizes}] along ${axis} (part ${k}) ${dtype}`, [x], (t) => {
            const parts = tf.split(t, sizes, axis);
            const keep = parts[k];
            tf.dispose(parts.filter((_, j) => j !== k));
            return keep;
          });
          got.dispose();
        }
        for (let k = 0; k < shape[a]; k++) {
          const got = await check(`unstack [${shape}] along ${axis} (part ${k}) ${dtype}`, [x], (t) => {
            const parts = tf.unstack(t, axis);
            tf.dispose(parts.filter((_, j) => j !== k));
            return parts[k];
          });
          got.dispose();
        }
      }
    }
  });

  it('reverse: random axes (negative too), every dtype', async () => {
    const rand = rng(105);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 10; trial++) {
        const rank = randInt(rand, 1, 6);
        const shape = randomShape(rand, rank, 5);
        const axes = [...Array(rank).keys()].filter(() => rand() < 0.5).map((a) => (rand() < 0.3 ? a - rank : a));
        const got = await check(`reverse [${shape}] on [${axes}] ${dtype}`, [input(rand, shape, dtype)], (x) => tf.reverse(x, axes));
        got.dispose();
      }
    }
  });

  it('tile: random reps, every dtype', async () => {
    const rand = rng(106);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 10; trial++) {
        const rank = randInt(rand, 1, 5);
        const shape = randomShape(rand, rank, 4);
        const reps = shape.map(() => randInt(rand, 1, 3));
        const got = await check(`tile [${shape}] by [${reps}] ${dtype}`, [input(rand, shape, dtype)], (x) => tf.tile(x, reps));
        got.dispose();
      }
    }
  });

  it('pad (constant) and mirrorPad (reflect, symmetric): random paddings, every dtype', async () => {
    const rand = rng(107);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 10; trial++) {
        const rank = randInt(rand, 1, 5);
        const shape = randomShape(rand, rank, 5);
        const paddings = shape.map(() => [randInt(rand, 0, 3), randInt(rand, 0, 3)] as [number, number]);
        const value = dtype === 'bool' ? 1 : dtype === 'int32' ? -7 : 2.5;
        const got = await check(`pad [${shape}] by ${JSON.stringify(paddings)} ${dtype}`, [input(rand, shape, dtype)], (x) => tf.pad(x, paddings, value));
        got.dispose();
        for (const mode of ['reflect', 'symmetric'] as const) {
          const slack = mode === 'reflect' ? 1 : 0;
          const mirror = shape.map((d) => [randInt(rand, 0, d - slack), randInt(rand, 0, d - slack)] as [number, number]);
          const m = await check(`mirrorPad ${mode} [${shape}] by ${JSON.stringify(mirror)} ${dtype}`, [input(rand, shape, dtype)], (x) => tf.mirrorPad(x, mirror, mode));
          m.dispose();
        }
      }
    }
  });

  it('concat: 1 to 10 inputs (more than one dispatch group), random axes, empty inputs, every dtype', async () => {
    const rand = rng(108);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 10; trial++) {
        const rank = randInt(rand, 1, 4);
        const shape = randomShape(rand, rank, 5);
        const axis = randInt(rand, -rank, rank - 1);
        const a = axis < 0 ? axis + rank : axis;
        const count = randInt(rand, 1, 10);
        const inputs = Array.from({ length: count }, () => {
          const s = [...shape];
          s[a] = rand() < 0.15 ? 0 : randInt(rand, 1, 4);
          return input(rand, s, dtype);
        });
        const got = await check(`concat ${count} along ${axis} of [${shape}] ${dtype}`, inputs, (...ts) => tf.concat(ts, axis));
        got.dispose();
      }
    }
  });

  it('stack: random counts and axes (negative too), every dtype', async () => {
    const rand = rng(109);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 8; trial++) {
        const rank = randInt(rand, 0, 4);
        const shape = randomShape(rand, rank, 4);
        const axis = randInt(rand, -rank - 1, rank);
        const count = randInt(rand, 1, 9);
        const inputs = Array.from({ length: count }, () => input(rand, shape, dtype));
        const got = await check(`stack ${count} of [${shape}] along ${axis} ${dtype}`, inputs, (...ts) => tf.stack(ts, axis));
        got.dispose();
      }
    }
  });

  it('gather: random axes and batchDims, every dtype; indices made on the GPU', async () => {
    const rand = rng(110);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 10; trial++) {
        const rank = randInt(rand, 1, 4);
        const shape = randomShape(rand, rank, 5);
        const batchDims = randInt(rand, 0, Math.min(rank - 1, 1));
        const axis = randInt(rand, batchDims, rank - 1);
        const idxShape = [...shape.slice(0, batchDims), ...randomShape(rand, randInt(rand, 0, 2), 4)];
        const count = idxShape.reduce((p, d) => p * d, 1);
        const indices: Input = { values: Array.from({ length: count }, () => randInt(rand, 0, shape[axis] - 1)), shape: idxShape, dtype: 'int32' };
        const label = `gather [${shape}] axis ${axis} batchDims ${batchDims} indices [${idxShape}] ${dtype}`;
        const got = await check(label, [input(rand, shape, dtype), indices], (x, i) => tf.gather(x, i, axis, batchDims));
        got.dispose();
      }
    }
    // Slices of 4 words move as vec4s.
    seen.keys = [];
    const got = await check('gather rows of 8', [input(rand, [10, 8], 'float32'), { values: [3, 1, 9, 0], shape: [4], dtype: 'int32' }], (x, i) => tf.gather(x, i));
    expect(seen.keys).toEqual(['gather/vec4']);
    got.dispose();
    // Indices computed by a GPU kernel are read back for the range check.
    const x = tf.tensor([[1, 2], [3, 4], [5, 6]]);
    const i = tf.tidy(() => tf.add(tf.tensor([0, 1, 0], [3], 'int32'), tf.tensor([2, 0, 1], [3], 'int32')));
    expect(webgpuBackend().isOnGpu(i)).toBe(true);
    const y = tf.gather(x, i);
    expect([...y.dataSync()]).toEqual([5, 6, 3, 4, 3, 4]);
    tf.dispose([x, i, y]);
  });

  it('gather: negative and out-of-range indices throw as in tfjs-backend-cpu, leaking nothing', () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const t = tf.tensor2d([1, 11, 2, 22], [2, 2], dtype);
      for (const bad of [[100], [-1], [0, 2]]) {
        const index = tf.tensor1d(bad, 'int32');
        const wrong = bad.find((v) => v < 0 || v > 1);
        expect(() => tf.gather(t, index)).toThrowError(new RegExp(`GatherV2: the index value ${wrong} is not in \\[0, 1\\]`));
        index.dispose();
      }
      t.dispose();
    }
  });

  it('gatherND: random depths, every dtype; bad rows throw as in tfjs-backend-cpu', async () => {
    const rand = rng(111);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 8; trial++) {
        const rank = randInt(rand, 1, 4);
        const shape = randomShape(rand, rank, 5);
        const depth = randInt(rand, 1, rank);
        const rows = randomShape(rand, randInt(rand, 0, 2), 4);
        const count = rows.reduce((p, d) => p * d, 1);
        const values: number[] = [];
        for (let r = 0; r < count; r++) for (let j = 0; j < depth; j++) values.push(randInt(rand, 0, shape[j] - 1));
        const label = `gatherND [${shape}] rows [${rows}] depth ${depth} ${dtype}`;
        const got = await check(label, [input(rand, shape, dtype), { values, shape: [...rows, depth], dtype: 'int32' }], (x, i) => tf.gatherND(x, i));
        got.dispose();
      }
    }
    const x = tf.tensor([[1, 2], [3, 4]]);
    const bad = tf.tensor([[2, 0]], [1, 2], 'int32');
    expect(() => tf.gatherND(x, bad)).toThrowError(/Invalid indices: 2,0 does not index into 2,2/);
    tf.dispose([x, bad]);
  });

  it('oneHot: indices outside [0, depth) give rows of off, every output dtype', async () => {
    const rand = rng(112);
    for (const dtype of DTYPES) {
      for (let trial = 0; trial < 6; trial++) {
        const shape = randomShape(rand, randInt(rand, 1, 3), 5);
        const depth = randInt(rand, 2, 7);
        const values = Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => randInt(rand, -2, depth + 1));
        const [on, off] = dtype === 'bool' ? [1, 0] : dtype === 'int32' ? [5, -3] : [0.5, -1.25];
        const got = await check(`oneHot [${shape}] depth ${depth} ${dtype}`, [{ values, shape, dtype: 'int32' }], (i) => tf.oneHot(i, depth, on, off, dtype));
        got.dispose();
      }
    }
  });

  it('empty tensors give empty results without a dispatch', async () => {
    const rand = rng(113);
    const cases: Array<[string, Input[], (...t: tf.Tensor[]) => tf.Tensor]> = [
      ['transpose', [input(rand, [0, 3, 2], 'float32')], (x) => tf.transpose(x, [2, 0, 1])],
      ['slice', [input(rand, [4, 3], 'int32')], (x) => tf.slice(x, [1, 0], [0, 3])],
      ['stridedSlice', [input(rand, [4, 3], 'float32')], (x) => tf.stridedSlice(x, [3, 0], [1, 3], [1, 1])],
      ['reverse', [input(rand, [2, 0], 'bool')], (x) => tf.reverse(x, [0])],
      ['tile', [input(rand, [2, 3], 'float32')], (x) => tf.tile(x, [0, 2])],
      ['pad', [input(rand, [0, 2], 'float32')], (x) => tf.pad(x, [[0, 0], [1, 1]], 3)],
      ['concat', [input(rand, [0, 2], 'float32'), input(rand, [0, 3], 'float32')], (a, b) => tf.concat([a, b], 1)],
      ['stack', [input(rand, [0, 2], 'int32'), input(rand, [0, 2], 'int32')], (a, b) => tf.stack([a, b], 1)],
      ['gather', [input(rand, [3, 2], 'float32'), { values: [], shape: [0], dtype: 'int32' }], (x, i) => tf.gather(x, i)],
      ['oneHot', [{ values: [], shape: [0], dtype: 'int32' }], (i) => tf.oneHot(i, 4)],
    ];
    for (const [name, inputs, op] of cases) {
      const dispatches = webgpuBackend().device.stats().dispatches;
      const got = await check(`empty ${name}`, inputs, op);
      expect(got.size, name).toBe(0);
      expect(webgpuBackend().device.stats().dispatches, `${name}: no dispatch`).toBe(dispatches);
      got.dispose();
    }
    // Concat with one non-empty input returns it; with all of them empty, an empty tensor.
    const got = await check('concat with empties', [input(rand, [2, 0], 'float32'), input(rand, [2, 3], 'float32')], (a, b) => tf.concat([a, b], 1));
    got.dispose();
  });

  it('large tensors: 2-D dispatch grids past 65535 workgroups, a 1M-element tiled transpose', () => {
    const backend = webgpuBackend();
    // 18M elements through the affine shader (reverse) and the tile shader.
    const rows = 4400;
    const cols = 4096;
    const row = tf.tensor(Float32Array.from({ length: cols }, (_, i) => i), [1, cols]);
    const big = tf.tile(row, [rows, 1]);
    expect(big.size).toBeGreaterThan(256 * 65535);
    const flipped = tf.reverse(big, [1]);
    const v = flipped.dataSync();
    for (const r of [0, 1, rows >> 1, rows - 1]) {
      for (const c of [0, 1, cols >> 1, cols - 1]) expect(v[r * cols + c]).toBe(cols - 1 - c);
    }
    // 1100 x 1000 transposed through workgroup-memory tiles.
    const n = 1100;
    const m = 1000;
    const a = tf.tensor(Int32Array.from({ length: n * m }, (_, i) => i), [n, m], 'int32');
    const t = tf.transpose(a);
    expect(backend.isOnGpu(t)).toBe(true);
    const tv = t.dataSync();
    for (const [i, j] of [[0, 0], [1, 0], [0, 1], [m - 1, n - 1], [517, 333], [999, 1]]) expect(tv[i * n + j]).toBe(j * m + i);
    expect(seen.fallbacks).toEqual([]);
    tf.dispose([row, big, flipped, a, t]);
  });
});
