// Reductions (warp-shuffle row reductions, with a transpose for inner axes) and Softmax on
// CUDA against tessera-cpu: random shapes and axis sets, keepDims, ties, NaN, empty
// reductions and large rows.
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';

import type { DType } from '../../src/kernels/array.js';
import { expectClose, randomShape, randomValues, rng } from '../helpers.js';
import { checkCudaLeaks, compareWithCpu, describeCuda } from './setup.js';

const REDUCE: [string, (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor][] = [
  ['Sum', (x, a, k) => tf.sum(x, a, k)],
  ['Mean', (x, a, k) => tf.mean(x, a, k)],
  ['Prod', (x, a, k) => tf.prod(x, a, k)],
  ['Max', (x, a, k) => tf.max(x, a, k)],
  ['Min', (x, a, k) => tf.min(x, a, k)],
  ['ArgMax', (x, a) => tf.argMax(x, a[0])],
  ['ArgMin', (x, a) => tf.argMin(x, a[0])],
];

function randomAxes(rand: () => number, rank: number, single: boolean): number[] {
  if (single) return [Math.floor(rand() * rank)];
  const axes = [...Array(rank).keys()].filter(() => rand() < 0.5);
  return axes.length > 0 ? axes : [rank - 1];
}

describeCuda('tessera-cuda reductions', () => {
  checkCudaLeaks();

  for (const [name, op] of REDUCE) {
    for (const dtype of ['float32', 'int32'] as DType[]) {
      it(`${name} ${dtype} over random axes, with ties, NaN, empty and large inputs`, async () => {
        const rand = rng(name.length * 31 + dtype.length);
        const arg = name.startsWith('Arg');
        const shapes: number[][] = [[5], [1], [3, 0], [2, 3, 4], [1 << 20 | 5], [7, 5000], [5000, 7]];
        for (let i = 0; i < 12; i++) shapes.push(randomShape(rand, 1 + Math.floor(rand() * 4), 6));
        for (const shape of shapes) {
          for (const keepDims of arg ? [false] : [false, true]) {
            const axes = randomAxes(rand, shape.length, arg);
            if (arg && shape[axes[0]] === 0) continue;  // tfjs-backend-cpu has no result to compare with
            const n = tf.util.sizeFromShape(shape);
            // Small integers make ties common: ArgMax/ArgMin must keep the first.
            const v = randomValues(rand, n, dtype, name === 'Prod' ? -1.5 : -4, name === 'Prod' ? 1.5 : 4);
            if (dtype === 'float32' && n > 3 && rand() < 0.5) v[Math.floor(rand() * n)] = NaN;
            if (dtype === 'float32' && n > 3 && rand() < 0.3) v[0] = NaN;
            const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(v, shape, dtype)], (x) => op(x, axes, keepDims));
            // Sums run in double on both sides, in a different order.
            expectClose(gpu.values, cpu.values, cpu.dtype as DType, cpu.dtype === 'float32' ? { rel: 2e-7, abs: 1e-7 } : {});
          }
        }
      });
    }
  }
});

describeCuda('tessera-cuda Softmax', () => {
  checkCudaLeaks();

  it('matches tessera-cpu on rows short and long, with NaN and -Inf', async () => {
    const rand = rng(41);
    for (const shape of [[1], [3, 1], [4, 10], [2, 3, 33], [8, 1000], [3, 5000], [1000, 7], [0, 4]]) {
      const n = tf.util.sizeFromShape(shape);
      const v = randomValues(rand, n, 'float32', -20, 20);
      if (n > 8) {
        v[3] = NaN;
        v[n - 1] = -Infinity;
      }
      const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(v, shape)], (x) => tf.softmax(x));
      expectClose(gpu.values, cpu.values, 'float32', { rel: 2e-7, abs: 1e-9 });
    }
  });
});
