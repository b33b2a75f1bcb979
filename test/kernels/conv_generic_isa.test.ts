// The depthwise kernels are compiled once per ISA and conv.test.ts exercises the machine's
// widest. Vitest runs each file in its own process, so this one caps the ISA before the addon
// loads and checks the baseline x86-64 variant (no FMA: the case where a float shortcut
// would part from tfjs's double-rounded sums) bit for bit against tfjs-backend-cpu.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';

import { checkLeaks, expectClose, randomValues, rng } from '../helpers.js';

process.env.TESSERA_ISA = 'generic';
const { native } = await import('../../src/native.js');
const { array, depthwiseConv2d, depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput, resolveConv2D } = await import('../../src/kernels/index.js');

checkLeaks();

function tfjsCpu(kernel: string, inputs: Record<string, [number[], number[]]>, attrs: Record<string, unknown>): Float32Array {
  tf.setBackend('cpu');
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, [values, shape]] of Object.entries(inputs)) tensors[name] = tf.tensor(values, shape, 'float32');
    return (tf.engine().runKernel(kernel, tensors, attrs as never) as tf.Tensor).dataSync() as Float32Array;
  });
}

describe('depthwise kernels on the generic ISA', () => {
  it('runs the generic variant', () => {
    expect(native.buildInfo().isa).toBe('generic');
  });

  it('forward and gradients equal tfjs-backend-cpu bit for bit', () => {
    const rand = rng(2024);
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 40; trial++) {
      const xShape = [int(1, 2), int(3, 12), int(3, 12), int(1, 9)];
      const fShape = [int(1, 3), int(1, 3), xShape[3], int(1, 3)];
      const strides = int(1, 2);
      const pad = trial % 2 === 0 ? 'same' : 'valid';
      const outShape = resolveConv2D('test', xShape, fShape, { strides, pad }, true).outShape;
      const attrs = { strides, pad, dilations: 1, dataFormat: 'NHWC' };
      const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
      const dyv = randomValues(rand, size(outShape), 'float32', -1, 1);
      const x = array(xv, xShape);
      const f = array(fv, fShape);
      const dy = array(dyv, outShape);
      const y = depthwiseConv2d(x, f, { strides, pad });
      const dx = depthwiseConv2dBackpropInput(dy, f, xShape, { strides, pad });
      const dw = depthwiseConv2dBackpropFilter(x, dy, fShape, { strides, pad });
      const exact = { abs: 0, rel: 0 };
      expectClose(y.data, tfjsCpu('DepthwiseConv2dNative', { x: [xv, xShape], filter: [fv, fShape] }, attrs), 'float32', exact);
      expectClose(dx.data, tfjsCpu('DepthwiseConv2dNativeBackpropInput', { dy: [dyv, outShape], filter: [fv, fShape] },
        { ...attrs, inputShape: xShape }), 'float32', exact);
      expectClose(dw.data, tfjsCpu('DepthwiseConv2dNativeBackpropFilter', { x: [xv, xShape], dy: [dyv, outShape] },
        { ...attrs, filterShape: fShape }), 'float32', exact);
      for (const a of [x, f, dy, y, dx, dw]) a.dispose();
    }
  });
});
