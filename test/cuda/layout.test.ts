// Transpose and GatherV2 on CUDA against tessera-cpu: random ranks and permutations (tiled
// and general paths, size-1 axes), every dtype, batchDims, device-resident indices.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

import type { DType } from '../../src/kernels/array.js';
import { expectClose, randomShape, randomValues, rng } from '../helpers.js';
import { checkCudaLeaks, compareWithCpu, describeCuda, fallbacksDuring } from './setup.js';

function shuffle(rand: () => number, n: number): number[] {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

describeCuda('tessera-cuda Transpose', () => {
  checkCudaLeaks();

  for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
    it(`${dtype}: random ranks and permutations, large matrices, empty tensors`, async () => {
      const rand = rng(51 + dtype.length);
      const cases: [number[], number[]][] = [[[513, 1031], [1, 0]], [[4, 300, 200], [0, 2, 1]], [[2, 1, 3], [1, 0, 2]], [[0, 3], [1, 0]], [[5], [0]]];
      for (let i = 0; i < 20; i++) {
        const shape = randomShape(rand, 1 + Math.floor(rand() * 6), 5);
        cases.push([shape, shuffle(rand, shape.length)]);
      }
      for (const [shape, perm] of cases) {
        const v = randomValues(rand, tf.util.sizeFromShape(shape), dtype);
        const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(v, shape, dtype)], (x) => tf.transpose(x, perm));
        expectClose(gpu.values, cpu.values, dtype);
      }
    });
  }
});

describeCuda('tessera-cuda GatherV2', () => {
  checkCudaLeaks();

  for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
    it(`${dtype}: random axes and batchDims`, async () => {
      const rand = rng(61 + dtype.length);
      for (let i = 0; i < 25; i++) {
        const shape = randomShape(rand, 1 + Math.floor(rand() * 4), 5);
        const axis = Math.floor(rand() * shape.length);
        const batchDims = axis > 0 && rand() < 0.4 ? 1 : 0;
        const indicesShape = [...shape.slice(0, batchDims), ...randomShape(rand, Math.floor(rand() * 3), 4)];
        const indices = Array.from({ length: tf.util.sizeFromShape(indicesShape) }, () => Math.floor(rand() * shape[axis]));
        const v = randomValues(rand, tf.util.sizeFromShape(shape), dtype);
        const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(v, shape, dtype), tf.tensor(indices, indicesShape, 'int32')],
          (x, idx) => tf.gather(x, idx, axis, batchDims));
        expectClose(gpu.values, cpu.values, dtype);
      }
    });
  }

  it('gathers with indices computed on the device (no read back)', async () => {
    const { gpu, cpu } = await compareWithCpu(() => [tf.tensor([[5, 1, 9], [2, 8, 3]]), tf.tensor([10, 20, 30])],
      (x, y) => tf.gather(y, tf.argMax(x, 1)));
    expectClose(gpu.values, cpu.values, 'float32');
  });

  it('leaves an out-of-range index held on the CPU to tessera-cpu, which raises tfjs\'s error', () => {
    const x = tf.tensor([1, 2, 3]);
    const idx = tf.tensor([0, 3], [2], 'int32');
    try {
      const { fallbacks } = fallbacksDuring(() => {
        expect(() => tf.gather(x, idx)).toThrow(/GatherV2: the index value 3 is not in \[0, 2\]/);
      });
      expect(fallbacks).toEqual(['GatherV2']);
    } finally {
      tf.dispose([x, idx]);
    }
  });
});
