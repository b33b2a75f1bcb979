// tessera-webgpu Cumsum and Cumprod (scan.wgsl) against tessera-cpu on the same seeded random
// inputs: random shapes and axes, exclusive and reverse, float32, int32 and bool (scanned to
// int32), NaN and infinities, empty tensors and a large case (2^24 elements). Every case checks
// that the scan dispatched with its result on the GPU and nothing fell back to tessera-cpu;
// every test that no GPU buffer leaked.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

import { expectClose, randomShape, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, watchKernels, webgpuBackend } from './setup.js';

const fallbacks: string[] = [];
const keys: string[] = [];

type DType = 'float32' | 'int32' | 'bool';
const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

describeWebGpu('tessera-webgpu cumsum and cumprod', () => {
  watchKernels({ keys, fallbacks });

  async function check(label: string, values: number[], shape: number[], dtype: DType, op: 'cumsum' | 'cumprod', axis: number, exclusive: boolean, reverse: boolean, rel = 1e-5): Promise<void> {
    const run = () => tf[op](tf.tensor(values, shape, dtype), axis, exclusive, reverse);
    const want = await onCpu(() => tf.tidy(run));
    const backend = webgpuBackend();
    const x = tf.tensor(values, shape, dtype);
    if (x.size > 0) backend.gpuBuffer(x);
    fallbacks.length = 0;
    keys.length = 0;
    const got = tf[op](x, axis, exclusive, reverse);
    x.dispose();
    expect(fallbacks, `${label}: fell back`).toEqual([]);
    expect(got.shape, label).toEqual(want.shape);
    expect(got.dtype, label).toBe(want.dtype);
    if (got.size > 0) {
      expect(keys.some((k) => k.startsWith('scan/')), `${label}: scan dispatched (${keys})`).toBe(true);
      expect(backend.isOnGpu(got), `${label}: on the GPU`).toBe(true);
    }
    try {
      expectClose(got.dataSync() as Float32Array, want.values as Float32Array, got.dtype as 'float32', { rel, abs: rel });
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`);
    } finally {
      got.dispose();
    }
  }

  it('random shapes, axes, exclusive and reverse; float32, int32 and bool', async () => {
    const rand = rng(911);
    for (let trial = 0; trial < 80; trial++) {
      const rank = 1 + Math.floor(rand() * 4);
      const shape = randomShape(rand, rank, 7);
      const axis = Math.floor(rand() * rank);
      const dtype = (['float32', 'int32', 'bool'] as const)[Math.floor(rand() * 3)];
      const op = rand() < 0.5 ? 'cumsum' : 'cumprod';
      const exclusive = rand() < 0.5;
      const reverse = rand() < 0.5;
      // Products of small values stay inside int32 and float32's exact range.
      const values = op === 'cumprod' ? randomValues(rand, size(shape), dtype, -2, 2) : randomValues(rand, size(shape), dtype);
      await check(`${op} [${shape}] ${dtype} axis ${axis} exclusive ${exclusive} reverse ${reverse}`, values, shape, dtype, op, axis, exclusive, reverse);
    }
  });

  it('NaN and infinities propagate as on tessera-cpu', async () => {
    const values = [1, NaN, 2, Infinity, -Infinity, 3, 0, 4];
    for (const op of ['cumsum', 'cumprod'] as const) {
      for (const reverse of [false, true]) await check(`${op} reverse ${reverse}`, values, [2, 4], 'float32', op, 1, false, reverse);
    }
  });

  it('empty tensors', async () => {
    for (const shape of [[0], [3, 0], [0, 4], [2, 0, 3]]) {
      for (let axis = 0; axis < shape.length; axis++) {
        await check(`cumsum [${shape}] axis ${axis}`, [], shape, 'float32', 'cumsum', axis, false, false);
        await check(`cumprod [${shape}] axis ${axis}`, [], shape, 'int32', 'cumprod', axis, true, true);
      }
    }
  });

  it('a large case: 2^24 elements (2^22 rows of 4, 4 rows of 2^22 strided), and a long float axis', async () => {
    const rand = rng(912);
    const values = randomValues(rand, 1 << 24, 'int32', -5, 5);
    await check('cumsum [2^22, 4] axis 1', values, [1 << 22, 4], 'int32', 'cumsum', 1, false, false);
    await check('cumsum [4, 2^22] axis 0', values, [4, 1 << 22], 'int32', 'cumsum', 0, true, true);
    const floats = randomValues(rand, 1 << 16, 'float32', -1, 1);
    await check('cumsum [2, 2^15] axis 1', floats, [2, 1 << 15], 'float32', 'cumsum', 1, false, true, 1e-4);
  });
});
