// Binary (broadcasting) and unary CUDA kernels against tessera-cpu on fresh random inputs.
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';

import type { DType } from '../../src/kernels/array.js';
import { expectClose, randomShape, randomValues, rng } from '../helpers.js';
import { checkCudaLeaks, compareWithCpu, describeCuda } from './setup.js';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 3.5e38, -1e-40];

const BINARY: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, DType[]][] = [
  ['Add', tf.add, ['float32', 'int32']],
  ['Sub', tf.sub, ['float32', 'int32']],
  ['Multiply', tf.mul, ['float32', 'int32']],
  ['RealDiv', (a, b) => tf.div(a, b), ['float32']],
  ['Maximum', tf.maximum, ['float32', 'int32']],
  ['Minimum', tf.minimum, ['float32', 'int32']],
  ['Pow', tf.pow, ['float32']],
  ['SquaredDifference', tf.squaredDifference, ['float32', 'int32']],
  ['Equal', tf.equal, ['float32', 'int32']],
  ['NotEqual', tf.notEqual, ['float32', 'int32']],
  ['Less', tf.less, ['float32', 'int32']],
  ['LessEqual', tf.lessEqual, ['float32', 'int32']],
  ['Greater', tf.greater, ['float32', 'int32']],
  ['GreaterEqual', tf.greaterEqual, ['float32', 'int32']],
];

/** Two shapes that broadcast together: b drops leading dims and sets some to 1. */
function broadcastPair(rand: () => number): [number[], number[]] {
  const a = randomShape(rand, Math.floor(rand() * 5), 5);
  let b = a.slice(Math.floor(rand() * (a.length + 1)));
  b = b.map((d) => (rand() < 0.4 ? 1 : d));
  return rand() < 0.5 ? [a, b] : [b, a];
}

function values(rand: () => number, n: number, dtype: DType, special: boolean): number[] {
  const v = randomValues(rand, n, dtype, -5, 5);
  if (special && dtype === 'float32') for (let i = 0; i < n; i++) if (rand() < 0.2) v[i] = SPECIAL[Math.floor(rand() * SPECIAL.length)];
  return v;
}

describeCuda('tessera-cuda binary kernels', () => {
  checkCudaLeaks();

  for (const [name, op, dtypes] of BINARY) {
    for (const dtype of dtypes) {
      it(`${name} ${dtype} on random broadcast shapes, NaN/Inf and empty tensors`, async () => {
        const rand = rng(name.length * 101 + dtype.length);
        const shapes: [number[], number[]][] = [[[], []], [[0], [1]], [[3, 0], [3, 1]], [[7], []], [[], [9]], [[1 << 20 | 3], [1 << 20 | 3]], [[1 << 16], []]];
        for (let i = 0; i < 12; i++) shapes.push(broadcastPair(rand));
        for (const [sa, sb] of shapes) {
          const va = values(rand, tf.util.sizeFromShape(sa), dtype, true);
          const vb = values(rand, tf.util.sizeFromShape(sb), dtype, true);
          const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(va, sa, dtype), tf.tensor(vb, sb, dtype)], op);
          // Pow is evaluated in double on both sides, through different libms.
          expectClose(gpu.values, cpu.values, cpu.dtype as DType, name === 'Pow' ? { rel: 2e-7, abs: 0 } : { rel: 0, abs: 0 });
        }
      });
    }
  }

  it('falls back for dtypes without a CUDA kernel (int32 Pow, bool Add)', async () => {
    const { gpu, cpu } = await compareWithCpu(() => [tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([2], [1], 'int32')], tf.pow, ['Pow']);
    expectClose(gpu.values, cpu.values, 'int32');
  });
});

const UNARY: [string, (x: tf.Tensor) => tf.Tensor, number?, number?][] = [
  ['Abs', tf.abs], ['Acos', tf.acos, -1.2, 1.2], ['Acosh', tf.acosh, 0.5, 10], ['Asin', tf.asin, -1.2, 1.2], ['Asinh', tf.asinh],
  ['Atan', tf.atan], ['Atanh', tf.atanh, -1.2, 1.2], ['Ceil', tf.ceil], ['Cos', tf.cos], ['Cosh', tf.cosh], ['Erf', tf.erf],
  ['Exp', tf.exp], ['Expm1', tf.expm1], ['Floor', tf.floor], ['Log', tf.log, -1, 100], ['Log1p', tf.log1p, -2, 100], ['Neg', tf.neg],
  ['Reciprocal', tf.reciprocal], ['Rsqrt', tf.rsqrt, -1, 100], ['Sign', tf.sign], ['Sin', tf.sin], ['Sinh', tf.sinh],
  ['Sqrt', tf.sqrt, -1, 100], ['Square', tf.square], ['Tan', tf.tan], ['Tanh', tf.tanh], ['Relu', tf.relu], ['Relu6', tf.relu6, -3, 9],
  ['Elu', tf.elu], ['Selu', tf.selu], ['Sigmoid', tf.sigmoid], ['Softplus', tf.softplus, -30, 30],
  ['Step', (x) => tf.step(x, 0.3)], ['LeakyRelu', (x) => tf.leakyRelu(x, 0.15)], ['ClipByValue', (x) => tf.clipByValue(x, -1.5, 2.25)],
];

describeCuda('tessera-cuda unary kernels', () => {
  checkCudaLeaks();

  for (const [name, op, lo = -8, hi = 8] of UNARY) {
    it(`${name} on random values, NaN/Inf, -0, empty and large tensors`, async () => {
      const rand = rng(name.charCodeAt(0) * 7 + name.length);
      for (const shape of [[0], [1], [5], [3, 7], [4097], [1 << 20 | 1]]) {
        const n = tf.util.sizeFromShape(shape);
        const v = randomValues(rand, n, 'float32', lo, hi);
        for (let i = 0; i < Math.min(n, SPECIAL.length); i++) v[i] = SPECIAL[i];
        const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(v, shape)], op);
        // Both sides evaluate the JavaScript formula in double (different libms), then round.
        expectClose(gpu.values, cpu.values, 'float32', { rel: 4e-7, abs: 1e-30 });
      }
    });
  }

  it('falls back for int32 inputs', async () => {
    const { gpu, cpu } = await compareWithCpu(() => [tf.tensor([-3, 0, 4], [3], 'int32')], tf.abs, ['Abs']);
    expectClose(gpu.values, cpu.values, 'int32');
  });
});
