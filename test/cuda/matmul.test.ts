// MatMul on CUDA (exact fp32 SGEMM, and the opt-in TF32/BF16 tensor-core paths) against
// tessera-cpu on fresh random inputs: odd sizes around the tile edges, every transpose,
// batches with broadcasting, fused bias and activations, empty and large products.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

import { configureCuda, registerCudaBackend } from '../../src/backend/cuda/index.js';
import { expectClose, randomValues, rng } from '../helpers.js';
import { checkCudaLeaks, compareWithCpu, cudaBackend, describeCuda } from './setup.js';

// (m, n, k): below, at and across the 64- and 128-wide tiles and the K slices of 8.
const SIZES: [number, number, number][] = [[1, 1, 1], [1, 10, 784], [3, 5, 7], [17, 33, 9], [64, 64, 64], [65, 63, 17],
  [129, 257, 65], [128, 128, 8], [385, 130, 200], [2, 1000, 3], [0, 4, 5], [4, 0, 5], [4, 5, 0]];

/** fp32 results differ from the CPU engine only by summation order: |error| <~ k * eps * sum|a*b|. */
const fp32Tolerance = (k: number) => ({ abs: 2e-6 * Math.max(k, 1), rel: 1e-5 });

function operands(rand: () => number, aShape: number[], bShape: number[]): [number[], number[]] {
  return [randomValues(rand, tf.util.sizeFromShape(aShape), 'float32', -1, 1), randomValues(rand, tf.util.sizeFromShape(bShape), 'float32', -1, 1)];
}

describeCuda('tessera-cuda MatMul (fp32)', () => {
  checkCudaLeaks();

  it('matches tessera-cpu on odd sizes with every transpose', async () => {
    const rand = rng(7);
    for (const [m, n, k] of SIZES) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const aShape = ta ? [k, m] : [m, k], bShape = tb ? [n, k] : [k, n];
          const [va, vb] = operands(rand, aShape, bShape);
          const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(va, aShape), tf.tensor(vb, bShape)], (a, b) => tf.matMul(a, b, ta, tb));
          expectClose(gpu.values, cpu.values, 'float32', fp32Tolerance(k));
        }
      }
    }
  });

  it('batches, with one side broadcast over the batch', async () => {
    const rand = rng(8);
    const cases: [number[], number[]][] = [[[3, 5, 7], [3, 7, 4]], [[1, 5, 7], [6, 7, 4]], [[6, 5, 7], [7, 4]], [[2, 3, 9, 16], [2, 3, 16, 12]], [[0, 3, 4], [0, 4, 2]]];
    for (const [aShape, bShape] of cases) {
      const [va, vb] = operands(rand, aShape, bShape);
      const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(va, aShape), tf.tensor(vb, bShape)], (a, b) => tf.matMul(a, b));
      expectClose(gpu.values, cpu.values, 'float32', fp32Tolerance(aShape[aShape.length - 1]));
    }
  });

  it('fuses a bias and each activation', async () => {
    const rand = rng(9);
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const) {
      for (const [m, n, k] of [[5, 7, 3], [130, 66, 40]]) {
        const [va, vb] = operands(rand, [m, k], [k, n]);
        const bias = randomValues(rand, n, 'float32', -1, 1);
        const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(va, [m, k]), tf.tensor(vb, [k, n]), tf.tensor(bias, [n])],
          (a, b, c) => tf.fused.matMul({ a, b, bias: c, activation, leakyreluAlpha: 0.1 }));
        expectClose(gpu.values, cpu.values, 'float32', fp32Tolerance(k));
      }
    }
  });

  it('handles NaN and Inf operands like the CPU', async () => {
    const a = [1, NaN, 2, 3, Infinity, 4];
    const b = [1, 2, 3, 4, 5, 6];
    const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(a, [2, 3]), tf.tensor(b, [3, 2])], (x, y) => tf.matMul(x, y));
    expectClose(gpu.values, cpu.values, 'float32');
  });

  it('computes a 1024 x 1024 x 1024 product on the 128 x 128 kernel', async () => {
    const rand = rng(10);
    const [va, vb] = operands(rand, [1024, 1024], [1024, 1024]);
    const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(va, [1024, 1024]), tf.tensor(vb, [1024, 1024])], (a, b) => tf.matMul(a, b));
    expectClose(gpu.values, cpu.values, 'float32', fp32Tolerance(1024));
  });

  it('falls back for biases that are not one per column', async () => {
    const { gpu, cpu } = await compareWithCpu(() => [tf.ones([3, 4]), tf.ones([4, 2]), tf.ones([3, 1])],
      (a, b, c) => tf.fused.matMul({ a, b, bias: c }), ['_FusedMatMul']);
    expectClose(gpu.values, cpu.values, 'float32');
  });
});

for (const precision of ['tf32', 'bf16'] as const) {
  describeCuda(`tessera-cuda MatMul (${precision} tensor cores)`, () => {
    checkCudaLeaks();

    it(`rounds the inputs to ${precision} and stays within its tolerance of the fp32 product`, async () => {
      configureCuda({ matmulPrecision: precision });
      tf.removeBackend('tessera-cuda');
      registerCudaBackend();
      await tf.setBackend('tessera-cuda');
      try {
        expect(cudaBackend().matmulPrecision).toBe(precision);
        const rand = rng(precision === 'tf32' ? 11 : 12);
        // Input rounding of 2^-11 (tf32) or 2^-8 (bf16) relative per operand, fp32 sums of k terms.
        const unit = precision === 'tf32' ? 2 ** -10 : 2 ** -7;
        for (const [m, n, k] of [[1, 1, 1], [17, 33, 9], [64, 64, 64], [129, 257, 65], [300, 200, 1000]]) {
          for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
            const aShape = ta ? [k, m] : [m, k], bShape = tb ? [n, k] : [k, n];
            const [va, vb] = operands(rand, aShape, bShape);
            const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(va, aShape), tf.tensor(vb, bShape)], (a, b) => tf.matMul(a, b, ta, tb));
            expectClose(gpu.values, cpu.values, 'float32', { abs: 3 * unit * Math.sqrt(k) + 1e-6, rel: 0 });
          }
        }
      } finally {
        configureCuda({});
        tf.removeBackend('tessera-cuda');
        registerCudaBackend();
        await tf.setBackend('tessera-cuda');
      }
    });
  });
}
