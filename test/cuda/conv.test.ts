// Conv2D (and FusedConv2D) and its two gradients on CUDA (implicit GEMM) against tessera-cpu
// on random geometries: strides, dilations, every padding form, odd channel counts, empty
// batches, and sizes large enough to split the filter gradient over K.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { it } from 'vitest';

import { expectClose, randomValues, rng } from '../helpers.js';
import { checkCudaLeaks, compareWithCpu, describeCuda } from './setup.js';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
}

function randomCase(rand: () => number): Case {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const dilated = rand() < 0.3;
  const strides: [number, number] = dilated ? [1, 1] : [int(1, 3), int(1, 3)];
  const dilations: [number, number] = dilated ? [int(1, 2), int(1, 2)] : [1, 1];
  const f: [number, number, number, number] = [int(1, 4), int(1, 4), int(1, 9), int(1, 11)];
  const x: [number, number, number, number] = [int(1, 3), int(f[0] * dilations[0], 13), int(f[1] * dilations[1], 13), f[2]];
  const pads: Pad[] = ['valid', 'same', int(0, 2), [[0, 0], [int(0, 2), int(0, 2)], [int(0, 2), int(0, 2)], [0, 0]]];
  return { x, f, strides, dilations, pad: pads[int(0, 3)] };
}

const tolerance = (k: number) => ({ abs: 2e-6 * Math.max(k, 1), rel: 1e-5 });

describeCuda('tessera-cuda Conv2D and gradients', () => {
  checkCudaLeaks();

  const cases: Case[] = [
    { x: [2, 8, 8, 3], f: [3, 3, 3, 5], strides: [1, 1], dilations: [1, 1], pad: 'same' },
    { x: [0, 5, 5, 2], f: [3, 3, 2, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid' },
    { x: [8, 32, 32, 16], f: [3, 3, 16, 32], strides: [1, 1], dilations: [1, 1], pad: 'same' },
    { x: [4, 28, 28, 1], f: [5, 5, 1, 8], strides: [2, 2], dilations: [1, 1], pad: 'same' },
  ];
  const rand = rng(21);
  for (let i = 0; i < 30; i++) cases.push(randomCase(rand));

  it('forward matches tessera-cpu on random geometries', async () => {
    const r = rng(22);
    for (const c of cases) {
      const vx = randomValues(r, tf.util.sizeFromShape(c.x), 'float32', -1, 1);
      const vf = randomValues(r, tf.util.sizeFromShape(c.f), 'float32', -1, 1);
      const { gpu, cpu } = await compareWithCpu(() => [tf.tensor4d(vx, c.x), tf.tensor4d(vf, c.f)],
        (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations));
      expectClose(gpu.values, cpu.values, 'float32', tolerance(c.f[0] * c.f[1] * c.f[2]));
    }
  });

  it('fuses a per-channel bias and the activations', async () => {
    const r = rng(23);
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const) {
      const c = cases[0];
      const vx = randomValues(r, tf.util.sizeFromShape(c.x), 'float32', -1, 1);
      const vf = randomValues(r, tf.util.sizeFromShape(c.f), 'float32', -1, 1);
      const vb = randomValues(r, c.f[3], 'float32', -1, 1);
      const { gpu, cpu } = await compareWithCpu(() => [tf.tensor4d(vx, c.x), tf.tensor4d(vf, c.f), tf.tensor1d(vb)],
        (x, f, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: c.strides, pad: c.pad, bias: b, activation, leakyreluAlpha: 0.3 }));
      expectClose(gpu.values, cpu.values, 'float32', tolerance(c.f[0] * c.f[1] * c.f[2]));
    }
  });

  it('input gradient matches tessera-cpu', async () => {
    const r = rng(24);
    for (const c of cases.filter((k) => k.dilations[0] === 1 && k.dilations[1] === 1)) {
      const out = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.strides, c.pad).shape);
      const vdy = randomValues(r, tf.util.sizeFromShape(out), 'float32', -1, 1);
      const vf = randomValues(r, tf.util.sizeFromShape(c.f), 'float32', -1, 1);
      const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(vdy, out), tf.tensor(vf, c.f)],
        (dy, f) => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f },
          { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x } as never) as tf.Tensor);
      expectClose(gpu.values, cpu.values, 'float32', tolerance(c.f[0] * c.f[1] * c.f[3]));
    }
  });

  it('filter gradient matches tessera-cpu (split over K when the output has few tiles)', async () => {
    const r = rng(25);
    for (const c of cases.filter((k) => k.dilations[0] === 1 && k.dilations[1] === 1)) {
      const out = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.strides, c.pad).shape);
      const vx = randomValues(r, tf.util.sizeFromShape(c.x), 'float32', -1, 1);
      const vdy = randomValues(r, tf.util.sizeFromShape(out), 'float32', -1, 1);
      const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(vx, c.x), tf.tensor(vdy, out)],
        (x, dy) => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
          { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f } as never) as tf.Tensor);
      expectClose(gpu.values, cpu.values, 'float32', tolerance(out[0] * out[1] * out[2]));
    }
  });

  it('trains through tf.grad: both gradients of a conv layer', async () => {
    const r = rng(26);
    const c = cases[2];
    const vx = randomValues(r, tf.util.sizeFromShape(c.x), 'float32', -1, 1);
    const vf = randomValues(r, tf.util.sizeFromShape(c.f), 'float32', -1, 1);
    const loss = (x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.relu(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')));
    for (const which of [0, 1]) {
      const { gpu, cpu } = await compareWithCpu(() => [tf.tensor(vx, c.x), tf.tensor(vf, c.f)],
        (x, f) => tf.grads(loss)([x, f])[which], 'any');
      expectClose(gpu.values, cpu.values, 'float32', { abs: 1e-3, rel: 1e-4 });
    }
  });
});
