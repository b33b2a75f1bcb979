// tessera-webgpu DepthwiseConv2dNativeBackpropInput and DepthwiseConv2dNativeBackpropFilter
// (depthwise_backprop_input.wgsl, depthwise_backprop_filter.wgsl) against tessera-cpu on the
// same seeded random inputs: random geometry (channel multipliers, strides, every padding
// kind and rounding mode, explicit pads), empty tensors, a large case, and through tfjs's
// gradient of depthwiseConv2d. Every case checks that the kernel dispatched and did not fall
// back to tessera-cpu, and every test that no GPU buffer leaked.
import * as tf from '@tensorflow/tfjs-core';
// Gradient registrations come with tfjs-layers; tfjs-core registers none.
import '@tensorflow/tfjs-layers';
import { expect, it } from 'vitest';

import { expectClose, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, watchKernels, webgpuBackend } from './setup.js';

const randInt = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Geometry {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  pad: Pad;
  rounding?: 'floor' | 'round' | 'ceil';
}

function randomGeometry(rand: () => number, big = false): Geometry {
  const xShape: Geometry['xShape'] = big
    ? [2, randInt(rand, 30, 40), randInt(rand, 30, 40), randInt(rand, 16, 24)]
    : [randInt(rand, 1, 3), randInt(rand, 1, 9), randInt(rand, 1, 9), randInt(rand, 1, 5)];
  const filterShape: Geometry['filterShape'] = [randInt(rand, 1, Math.min(4, xShape[1])), randInt(rand, 1, Math.min(4, xShape[2])), xShape[3], randInt(rand, 1, 3)];
  const strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
  const kind = randInt(rand, 0, 3);
  if (kind === 0) return { xShape, filterShape, strides, pad: 'valid' };
  if (kind === 1) return { xShape, filterShape, strides, pad: 'same' };
  if (kind === 2) return { xShape, filterShape, strides, pad: randInt(rand, 0, 2), rounding: (['floor', 'round', 'ceil'] as const)[randInt(rand, 0, 2)] };
  return { xShape, filterShape, strides, pad: [[0, 0], [randInt(rand, 0, 2), randInt(rand, 0, 2)], [randInt(rand, 0, 2), randInt(rand, 0, 2)], [0, 0]] };
}

/** The convolution's output shape (dy's), or null where tfjs rejects the geometry. */
function outShape(g: Geometry): number[] | null {
  try {
    return tf.backend_util.computeConv2DInfo(g.xShape, g.filterShape, g.strides, 1, g.pad as 'same', g.rounding, true).outShape;
  } catch {
    return null;
  }
}

const fallbacks: string[] = [];
const keys: string[] = [];

describeWebGpu('tessera-webgpu depthwise convolution gradients', () => {
  watchKernels({ keys, fallbacks });

  /** Both kernels on one geometry, against tessera-cpu. */
  async function checkGeometry(label: string, g: Geometry, rand: () => number): Promise<void> {
    const dyShape = outShape(g)!;
    const xv = randomValues(rand, size(g.xShape), 'float32', -3, 3);
    const fv = randomValues(rand, size(g.filterShape), 'float32', -3, 3);
    const dyv = randomValues(rand, size(dyShape), 'float32', -3, 3);
    const attrs = { strides: g.strides, dilations: [1, 1], pad: g.pad, dimRoundingMode: g.rounding };
    const backInput = () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor4d(dyv, dyShape as never), filter: tf.tensor4d(fv, g.filterShape) },
      { ...attrs, inputShape: g.xShape } as never) as tf.Tensor;
    const backFilter = () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(xv, g.xShape), dy: tf.tensor4d(dyv, dyShape as never) },
      { ...attrs, filterShape: g.filterShape } as never) as tf.Tensor;
    for (const [name, f, shader] of [['input', backInput, 'depthwise-backprop-input'], ['filter', backFilter, 'depthwise-backprop-filter']] as const) {
      const want = await onCpu(() => tf.tidy(f));
      fallbacks.length = 0;
      keys.length = 0;
      const got = tf.tidy(f);
      expect(fallbacks, `${label} ${name}: fell back`).toEqual([]);
      expect(got.shape, label).toEqual(want.shape);
      if (got.size > 0 && size(dyShape) > 0) {
        expect(keys, `${label} ${name}: dispatched`).toContain(shader);
        expect(webgpuBackend().isOnGpu(got), `${label} ${name}: on the GPU`).toBe(true);
      }
      try {
        expectClose(got.dataSync() as Float32Array, want.values as Float32Array, 'float32', { rel: 1e-4, abs: 1e-4 });
      } catch (e) {
        throw new Error(`${label} ${name}: ${(e as Error).message}`);
      } finally {
        got.dispose();
      }
    }
  }

  it('random geometry: multipliers, strides, paddings and rounding modes', async () => {
    const rand = rng(901);
    let checked = 0;
    for (let trial = 0; trial < 60; trial++) {
      const g = randomGeometry(rand);
      if (outShape(g) === null) continue;
      await checkGeometry(`trial ${trial} ${JSON.stringify(g)}`, g, rand);
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('a larger case (workgroups reducing thousands of pixels)', async () => {
    const rand = rng(902);
    for (let trial = 0; trial < 2; trial++) {
      const g = { ...randomGeometry(rand, true), strides: [trial + 1, trial + 1] as [number, number], pad: 'same' as const };
      await checkGeometry(`large ${JSON.stringify(g)}`, g, rand);
    }
  });

  it('empty tensors: batch 0, no channels, a multiplier of 0', async () => {
    const rand = rng(903);
    const cases: Geometry[] = [
      { xShape: [0, 5, 5, 3], filterShape: [2, 2, 3, 2], strides: [1, 1], pad: 'same' },
      { xShape: [2, 5, 5, 0], filterShape: [2, 2, 0, 2], strides: [1, 1], pad: 'valid' },
      { xShape: [2, 5, 5, 3], filterShape: [2, 2, 3, 0], strides: [2, 2], pad: 'same' },
    ];
    for (const g of cases) await checkGeometry(`empty ${JSON.stringify(g)}`, g, rand);
  });

  it('through tf.grad of depthwiseConv2d', async () => {
    const rand = rng(904);
    const x = randomValues(rand, 2 * 7 * 6 * 3, 'float32', -2, 2);
    const w = randomValues(rand, 3 * 3 * 3 * 2, 'float32', -2, 2);
    const run = () => {
      const xt = tf.tensor4d(x, [2, 7, 6, 3]);
      const wt = tf.tensor4d(w, [3, 3, 3, 2]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))([xt, wt]);
      return tf.concat([tf.reshape(dx, [-1]), tf.reshape(dw, [-1])]);
    };
    const want = await onCpu(() => tf.tidy(run));
    keys.length = 0;
    const got = tf.tidy(run);
    expect(keys).toContain('depthwise-backprop-input');
    expect(keys).toContain('depthwise-backprop-filter');
    expectClose(got.dataSync() as Float32Array, want.values as Float32Array, 'float32', { rel: 1e-4, abs: 1e-4 });
    got.dispose();
  });

  it('dilations other than 1 run on tessera-cpu', async () => {
    const dy = tf.ones([1, 3, 3, 2]);
    const filter = tf.ones([2, 2, 2, 1]);
    fallbacks.length = 0;
    const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter },
      { strides: [1, 1], dilations: [2, 2], pad: 'valid', inputShape: [1, 5, 5, 2] } as never) as tf.Tensor;
    expect(fallbacks).toEqual(['DepthwiseConv2dNativeBackpropInput']);
    tf.dispose([dy, filter, dx]);
  });
});
