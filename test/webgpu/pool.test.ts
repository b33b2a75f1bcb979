// tessera-webgpu pooling, batch norm and resize kernels (pool.wgsl, pool_grad.wgsl,
// batchnorm.wgsl, resize.wgsl, resize_grad.wgsl) against tessera-cpu on the same seeded
// random inputs: random shapes, filters, strides, paddings (valid, same, numbers with every
// rounding mode, explicit), channels that do and do not take the vec4 path, NaN and
// infinities, ties in max pooling's gradient, empty tensors and large sizes. Every case
// checks that no kernel fell back to tessera-cpu and that the result lives on the GPU; every
// test checks that no GPU buffer leaked.
import * as tf from '@tensorflow/tfjs-core';
// Gradient registrations come with tfjs-layers; tfjs-core registers none.
import '@tensorflow/tfjs-layers';
import { expect, it } from 'vitest';

import { expectClose, randomShape, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, watchKernels, webgpuBackend } from './setup.js';

interface Input {
  values: number[];
  shape: number[];
  dtype: 'float32' | 'int32';
}

const randInt = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

function input(rand: () => number, shape: number[], dtype: 'float32' | 'int32' = 'float32', lo = -10, hi = 10): Input {
  return { values: randomValues(rand, shape.reduce((p, d) => p * d, 1), dtype, lo, hi), shape, dtype };
}

function make(inputs: Input[]): tf.Tensor[] {
  return inputs.map((t) => tf.tensor(t.values, t.shape, t.dtype));
}

const fallbacks: string[] = [];
const keys: string[] = [];
// Kernels of other families that tfjs-core's gradients call on the way (reshapes, the
// identity of a 1x1 pool, the ones of dy, arithmetic of the chain rule).
const OTHERS = new Set(['Identity', 'Reshape', 'Fill', 'OnesLike', 'ZerosLike', 'Cast', 'Multiply', 'Add', 'AddN']);

/** tessera-cpu's result and the GPU's (inputs uploaded first) for `op`; no fallback, result on the GPU. */
async function check(label: string, inputs: Input[], op: (...t: tf.Tensor[]) => tf.Tensor, shader: string, tolerance: { rel?: number; abs?: number } = {}): Promise<void> {
  const want = await onCpu(() => tf.tidy(() => op(...make(inputs))));
  const backend = webgpuBackend();
  const ts = make(inputs);
  for (const t of ts) if (t.size > 0) backend.gpuBuffer(t);
  fallbacks.length = 0;
  keys.length = 0;
  const got = op(...ts);
  tf.dispose(ts);
  expect(fallbacks.filter((k) => !OTHERS.has(k)), `${label}: fell back to tessera-cpu`).toEqual([]);
  expect(got.shape, label).toEqual(want.shape);
  expect(got.dtype, label).toBe(want.dtype);
  if (got.size > 0 && shader !== '') {
    // The shader ran; the result is on the GPU unless tfjs-core finished with a kernel of
    // another family that still runs on tessera-cpu (avgPool's closing Cast).
    expect(keys.some((k) => k.startsWith(shader)), `${label}: ${shader} dispatched (${keys})`).toBe(true);
    if (fallbacks.length === 0) expect(backend.isOnGpu(got), `${label}: result on the GPU`).toBe(true);
  } else if (got.size > 0) {
    // A 1x1 window that keeps the shape: the input itself, nothing dispatched.
    expect(keys, label).toEqual([]);
    if (fallbacks.length === 0) expect(backend.isOnGpu(got), `${label}: result on the GPU`).toBe(true);
  }
  try {
    expectClose(got.dataSync() as ArrayLike<number>, want.values as ArrayLike<number>, got.dtype as 'float32', { rel: 1e-5, abs: 1e-5, ...tolerance });
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}`);
  } finally {
    got.dispose();
  }
}

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

function randomPool(rand: () => number, maxChannels = 9) {
  const shape = [randInt(rand, 1, 3), randInt(rand, 1, 9), randInt(rand, 1, 9), rand() < 0.4 ? 4 * randInt(rand, 1, 3) : randInt(rand, 1, maxChannels)];
  const filter: [number, number] = [randInt(rand, 1, Math.min(4, shape[1])), randInt(rand, 1, Math.min(4, shape[2]))];
  const strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
  const kind = randInt(rand, 0, 3);
  let pad: Pad;
  let rounding: 'floor' | 'round' | 'ceil' | undefined;
  if (kind === 0) pad = 'valid';
  else if (kind === 1) pad = 'same';
  else if (kind === 2) {
    pad = randInt(rand, 0, 2);
    rounding = (['floor', 'round', 'ceil'] as const)[randInt(rand, 0, 2)];
  } else {
    pad = [[0, 0], [randInt(rand, 0, 2), randInt(rand, 0, 2)], [randInt(rand, 0, 2), randInt(rand, 0, 2)], [0, 0]];
  }
  return { shape, filter, strides, pad, rounding };
}

describeWebGpu('tessera-webgpu pooling, batch norm, resize', () => {
  watchKernels({ keys, fallbacks });

  it('maxPool and avgPool: random geometry and paddings; maxPool on int32 too', async () => {
    const rand = rng(201);
    for (let trial = 0; trial < 40; trial++) {
      const { shape, filter, strides, pad, rounding } = randomPool(rand);
      const label = `[${shape}] filter ${filter} strides ${strides} pad ${JSON.stringify(pad)} ${rounding ?? ''}`;
      const x = input(rand, shape);
      // Pooling rejects strides and padding tfjs does not allow: skip those draws.
      try {
        await onCpu(() => tf.maxPool(tf.zeros(shape as [number, number, number, number]) as tf.Tensor4D, filter, strides, pad as never, rounding));
      } catch {
        continue;
      }
      const identity = filter[0] === 1 && filter[1] === 1 && strides[0] === 1 && strides[1] === 1 && (pad === 'valid' || pad === 'same' || pad === 0);
      await check(`maxPool ${label}`, [x], (t) => tf.maxPool(t as tf.Tensor4D, filter, strides, pad as never, rounding), identity ? '' : 'pool/max');
      await check(`avgPool ${label}`, [x], (t) => tf.avgPool(t as tf.Tensor4D, filter, strides, pad as never, rounding), identity ? '' : 'pool/avg');
      await check(`maxPool int32 ${label}`, [input(rand, shape, 'int32')], (t) => tf.maxPool(t as tf.Tensor4D, filter, strides, pad as never, rounding), identity ? '' : 'pool/max');
    }
  });

  it('maxPool: NaN never wins a window, infinities do; a window of NaN only is -Infinity', async () => {
    for (const channels of [1, 4]) {
      const values: number[] = [];
      const pattern = [NaN, 1, -Infinity, 2, NaN, NaN, Infinity, -3, NaN];
      for (const v of pattern) for (let c = 0; c < channels; c++) values.push(c === 1 ? -v : v);
      const x: Input = { values, shape: [1, 3, 3, channels], dtype: 'float32' };
      await check(`maxPool NaN ${channels}`, [x], (t) => tf.maxPool(t as tf.Tensor4D, 2, 1, 'valid'), 'pool/max');
      await check(`maxPool NaN same ${channels}`, [x], (t) => tf.maxPool(t as tf.Tensor4D, [1, 2], [2, 1], 'same'), 'pool/max');
      await check(`avgPool NaN ${channels}`, [x], (t) => tf.avgPool(t as tf.Tensor4D, 2, 1, 'valid'), 'pool/avg');
    }
  });

  it('maxPool and avgPool gradients: random geometry; ties go to the first maximum', async () => {
    const rand = rng(202);
    for (let trial = 0; trial < 30; trial++) {
      // No dimRoundingMode: tfjs-core's gradients drop it, so dy would not match the
      // geometry the gradient kernels see (those cases are left to tessera-cpu).
      const { shape, filter, strides, pad } = randomPool(rand, 6);
      const label = `[${shape}] filter ${filter} strides ${strides} pad ${JSON.stringify(pad)}`;
      if (typeof pad === 'number' && ((shape[1] - filter[0] + 2 * pad) % strides[0] !== 0 || (shape[2] - filter[1] + 2 * pad) % strides[1] !== 0)) continue;
      let outShape: number[];
      try {
        outShape = (await onCpu(() => tf.maxPool(tf.zeros(shape as [number, number, number, number]) as tf.Tensor4D, filter, strides, pad as never))).shape;
      } catch {
        continue;
      }
      // Few distinct values, so that windows have ties.
      const x = input(rand, shape, 'int32', 0, 3);
      x.dtype = 'float32';
      const dy = input(rand, outShape);
      await check(`maxPoolGrad ${label}`, [x, dy], (t, d) => tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, filter, strides, pad as never))(t, d), 'pool_grad/max');
      await check(`avgPoolGrad ${label}`, [x, dy], (t, d) => tf.grad((v: tf.Tensor) => tf.avgPool(v as tf.Tensor4D, filter, strides, pad as never))(t, d), 'pool_grad/avg');
    }
  });

  it('batchNorm: random ranks, parameters per channel or per element, with and without offset and scale', async () => {
    const rand = rng(203);
    for (let trial = 0; trial < 24; trial++) {
      const rank = randInt(rand, 1, 4);
      const shape = randomShape(rand, rank, 6);
      if (trial % 3 === 0) shape[rank - 1] = 8;
      const perElement = rand() < 0.3;
      const pShape = perElement ? shape : [shape[rank - 1]];
      const x = input(rand, shape);
      const mean = input(rand, pShape);
      const variance = input(rand, pShape, 'float32', 0.1, 4);
      const offset = input(rand, pShape);
      const scale = input(rand, pShape);
      const withOffset = rand() < 0.7;
      const withScale = rand() < 0.7;
      const epsilon = rand() < 0.5 ? 0.001 : 1e-5;
      const label = `batchNorm [${shape}] params [${pShape}] offset ${withOffset} scale ${withScale}`;
      await check(label, [x, mean, variance, offset, scale], (t, m, v, o, s) =>
        tf.batchNorm(t, m as tf.Tensor1D, v as tf.Tensor1D, withOffset ? (o as tf.Tensor1D) : undefined, withScale ? (s as tf.Tensor1D) : undefined, epsilon), 'batchnorm');
    }
  });

  it('resizeBilinear and resizeNearestNeighbor: up and down, alignCorners, halfPixelCenters, int32', async () => {
    const rand = rng(204);
    for (let trial = 0; trial < 30; trial++) {
      const shape = [randInt(rand, 1, 2), randInt(rand, 1, 7), randInt(rand, 1, 7), randInt(rand, 1, 5)];
      const size: [number, number] = [randInt(rand, 1, 12), randInt(rand, 1, 12)];
      const mode = randInt(rand, 0, 2);
      const alignCorners = mode === 1;
      const halfPixelCenters = mode === 2;
      const label = `[${shape}] to ${size} alignCorners ${alignCorners} halfPixelCenters ${halfPixelCenters}`;
      for (const dtype of ['float32', 'int32'] as const) {
        const x = input(rand, shape, dtype);
        await check(`resizeBilinear ${label} ${dtype}`, [x], (t) => tf.image.resizeBilinear(t as tf.Tensor4D, size, alignCorners, halfPixelCenters), 'resize/bilinear');
        await check(`resizeNearestNeighbor ${label} ${dtype}`, [x], (t) => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, size, alignCorners, halfPixelCenters), 'resize/nearest');
      }
    }
    // Exact integer source coordinates (3 -> 5 with alignCorners: ratio 0.5) and a 2x scale.
    for (const [from, to] of [[3, 5], [4, 8], [8, 4], [5, 3]]) {
      for (const alignCorners of [false, true]) {
        const x = input(rand, [1, from, from, 2]);
        await check(`resizeBilinear ${from} -> ${to}`, [x], (t) => tf.image.resizeBilinear(t as tf.Tensor4D, [to, to], alignCorners), 'resize/bilinear');
        await check(`resizeNearestNeighbor ${from} -> ${to}`, [x], (t) => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [to, to], alignCorners), 'resize/nearest');
      }
    }
  });

  it('resize gradients: bilinear and nearest, up and down, alignCorners, square and not', async () => {
    const rand = rng(205);
    for (let trial = 0; trial < 24; trial++) {
      const h = randInt(rand, 1, 7);
      const shape = [randInt(rand, 1, 2), h, trial % 2 === 0 ? h : randInt(rand, 1, 7), randInt(rand, 1, 4)];
      const size: [number, number] = [randInt(rand, 1, 12), randInt(rand, 1, 12)];
      const alignCorners = rand() < 0.5;
      const x = input(rand, shape);
      const dy = input(rand, [shape[0], size[0], size[1], shape[3]]);
      const label = `[${shape}] to ${size} alignCorners ${alignCorners}`;
      await check(`resizeBilinearGrad ${label}`, [x, dy], (t, d) => tf.grad((v: tf.Tensor) => tf.image.resizeBilinear(v as tf.Tensor4D, size, alignCorners))(t, d), 'resize_grad/bilinear', { rel: 1e-4 });
      await check(`resizeNearestNeighborGrad ${label}`, [x, dy], (t, d) => tf.grad((v: tf.Tensor) => tf.image.resizeNearestNeighbor(v as tf.Tensor4D, size, alignCorners))(t, d), 'resize_grad/nearest');
    }
  });

  it('empty tensors give empty results without a dispatch', async () => {
    const rand = rng(206);
    const cases: Array<[string, Input[], (...t: tf.Tensor[]) => tf.Tensor]> = [
      ['maxPool', [input(rand, [0, 4, 4, 3])], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')],
      ['avgPool', [input(rand, [2, 4, 4, 0])], (x) => tf.avgPool(x as tf.Tensor4D, 2, 1, 'same')],
      ['batchNorm', [input(rand, [0, 3]), input(rand, [3]), input(rand, [3], 'float32', 1, 2)], (x, m, v) => tf.batchNorm(x, m, v)],
      ['resizeBilinear', [input(rand, [0, 3, 3, 2])], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [5, 5])],
      ['resizeNearestNeighbor', [input(rand, [1, 3, 3, 2])], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [0, 5])],
    ];
    for (const [name, inputs, op] of cases) {
      const dispatches = webgpuBackend().device.stats().dispatches;
      await check(`empty ${name}`, inputs, op, '');
      expect(webgpuBackend().device.stats().dispatches, `${name}: no dispatch`).toBe(dispatches);
    }
  });

  it('large tensors: 4M-element pooling, batch norm and resize', async () => {
    const rand = rng(207);
    const x = input(rand, [4, 128, 128, 64]);
    await check('maxPool 4M', [x], (t) => tf.maxPool(t as tf.Tensor4D, 3, 2, 'same'), 'pool/max');
    await check('avgPool 4M', [x], (t) => tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid'), 'pool/avg');
    await check('batchNorm 4M', [x, input(rand, [64]), input(rand, [64], 'float32', 0.5, 2)], (t, m, v) => tf.batchNorm(t, m, v), 'batchnorm');
    await check('resizeBilinear 4M', [input(rand, [2, 256, 256, 8])], (t) => tf.image.resizeBilinear(t as tf.Tensor4D, [512, 384], false, true), 'resize/bilinear');
  });
});
