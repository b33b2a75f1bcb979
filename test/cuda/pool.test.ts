// MaxPool, AvgPool and their gradients, and FusedBatchNorm, on CUDA against tessera-cpu.
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';

import { expectClose, randomValues, rng } from '../helpers.js';
import { checkCudaLeaks, compareWithCpu, describeCuda } from './setup.js';

interface PoolCase {
  x: [number, number, number, number];
  filter: [number, number];
  strides: [number, number];
  pad: 'valid' | 'same' | number;
}

function randomCase(rand: () => number): PoolCase {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const filter: [number, number] = [int(1, 4), int(1, 4)];
  const pads = ['valid', 'same', int(0, 1)] as const;
  return { x: [int(1, 3), int(filter[0], 12), int(filter[1], 12), int(1, 6)], filter, strides: [int(1, 3), int(1, 3)], pad: pads[int(0, 2)] };
}

describeCuda('tessera-cuda pooling', () => {
  checkCudaLeaks();

  const rand = rng(71);
  const cases: PoolCase[] = [{ x: [2, 32, 32, 16], filter: [2, 2], strides: [2, 2], pad: 'valid' }, { x: [1, 7, 7, 3], filter: [3, 3], strides: [2, 2], pad: 'same' }];
  for (let i = 0; i < 25; i++) cases.push(randomCase(rand));

  for (const type of ['max', 'avg'] as const) {
    it(`${type} pool forward and gradient on random geometries (NaN in the input)`, async () => {
      const r = rng(type === 'max' ? 72 : 73);
      const pool = type === 'max' ? tf.maxPool : tf.avgPool;
      for (const c of cases) {
        const vx = randomValues(r, tf.util.sizeFromShape(c.x), 'float32', -3, 3);
        if (vx.length > 4) vx[2] = NaN;
        const forward = await compareWithCpu(() => [tf.tensor4d(vx, c.x)], (x) => pool(x as tf.Tensor4D, c.filter, c.strides, c.pad));
        expectClose(forward.gpu.values, forward.cpu.values, 'float32', { rel: 1e-6, abs: 1e-7 });
        const vdy = randomValues(r, forward.cpu.values.length, 'float32', -1, 1);
        const attrs = { filterSize: c.filter, strides: c.strides, pad: c.pad, dimRoundingMode: undefined };
        const grad = await compareWithCpu(() => [tf.tensor(vdy, forward.cpu.shape), tf.tensor4d(vx, c.x)], (dy, x) => {
          if (type === 'avg') return tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, attrs as never) as tf.Tensor;
          const y = tf.maxPool(x as tf.Tensor4D, c.filter, c.strides, c.pad);
          return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs as never) as tf.Tensor;
        });
        expectClose(grad.gpu.values, grad.cpu.values, 'float32', { rel: 1e-6, abs: 1e-7 });
      }
    });
  }
});

describeCuda('tessera-cuda FusedBatchNorm', () => {
  checkCudaLeaks();

  it('matches tessera-cpu with per-channel, scalar and missing parameters', async () => {
    const rand = rng(81);
    for (const [shape, paramShape, withOffset, withScale] of [[[2, 4, 4, 3], [3], true, true], [[5, 7], [7], false, true],
      [[5, 7], [1], true, false], [[1 << 20 | 3], [1], false, false], [[0, 3], [3], true, true]] as [number[], number[], boolean, boolean][]) {
      const n = tf.util.sizeFromShape(shape), p = tf.util.sizeFromShape(paramShape);
      const vx = randomValues(rand, n, 'float32', -5, 5);
      const [mean, offset, scale] = [0, 1, 2].map(() => randomValues(rand, p, 'float32', -2, 2));
      const variance = randomValues(rand, p, 'float32', 0, 3);
      const { gpu, cpu } = await compareWithCpu(
        () => [tf.tensor(vx, shape), tf.tensor(mean, paramShape), tf.tensor(variance, paramShape), tf.tensor(offset, paramShape), tf.tensor(scale, paramShape)],
        (x, m, v, o, s) => tf.batchNorm(x, m, v, withOffset ? o : undefined, withScale ? s : undefined, 1e-3));
      expectClose(gpu.values, cpu.values, 'float32', { rel: 1e-7, abs: 1e-7 });
    }
  });
});
