// The regular convolutions' direct tiles are compiled per ISA and conv.test.ts runs the
// engine on the machine's widest. Vitest runs each file in its own process, so this one caps
// the ISA at AVX2 before the addon loads and runs the engine's AVX2 tiles (and the AVX2 GEMM
// epilogue they finish with) against the reference, the small-K forward on the AVX2 GEMM
// kernels (6 x 16) against the reference and tfjs-backend-cpu, and the AVX2 depthwise kernels
// bit for bit against tfjs-backend-cpu.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';

import { checkLeaks, expectClose, randomValues, rng } from '../helpers.js';

process.env.TESSERA_ISA = 'avx2';
const { native } = await import('../../src/native.js');
const {
  array, conv2d, conv2dBackpropFilter, conv2dBackpropFilterRef, conv2dBackpropInput, conv2dBackpropInputRef, conv2dRef,
  depthwiseConv2d, depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput, resolveConv2D,
} = await import('../../src/kernels/index.js');

checkLeaks();

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
// A CPU without AVX2 runs the generic path, which conv_generic_isa.test.ts covers.
const hasAvx2 = native.buildInfo().isa === 'avx2';

describe.runIf(hasAvx2)('conv2d engine on the AVX2 tiles', () => {
  it('forward (fused) and both gradients agree with the reference', () => {
    const rand = rng(3030);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 16; trial++) {
      const xShape = [int(1, 3), int(2, 12), int(2, 12), [8, 13, 16, 35][int(0, 3)]];
      const fShape = [int(1, 3), int(1, 3), xShape[3], [8, 12, 20, 33, 48][int(0, 4)]];
      const pad = (['same', 'valid', 1] as const)[trial % 3];
      const options = { pad, strides: trial % 4 === 3 ? 2 : 1 };
      const outShape = resolveConv2D('test', xShape, fShape, options, false).outShape;
      if (outShape[1] <= 0 || outShape[2] <= 0) continue;
      const x = array(randomValues(rand, size(xShape), 'float32', -1, 1), xShape);
      const f = array(randomValues(rand, size(fShape), 'float32', -1, 1), fShape);
      const dy = array(randomValues(rand, size(outShape), 'float32', -1, 1), outShape);
      const bias = array(randomValues(rand, fShape[3], 'float32', -1, 1), [fShape[3]]);
      const fused = { ...options, bias, activation: trial % 2 === 0 ? 'elu' as const : 'relu6' as const };
      const tol = (n: number) => ({ abs: 1e-6 * (n + 1), rel: 1e-5 });
      const results = [
        [conv2d(x, f, fused), conv2dRef(x, f, fused), fShape[0] * fShape[1] * fShape[2]],
        [conv2dBackpropInput(dy, f, xShape, options), conv2dBackpropInputRef(dy, f, xShape, options), fShape[0] * fShape[1] * fShape[3]],
        [conv2dBackpropFilter(x, dy, fShape, options), conv2dBackpropFilterRef(x, dy, fShape, options), size(outShape) / fShape[3]],
      ] as const;
      for (const [out, ref, reduction] of results) {
        expectClose(out.data, ref.data, 'float32', tol(reduction));
        out.dispose();
        ref.dispose();
      }
      for (const a of [x, f, dy, bias]) a.dispose();
    }
    expect(native.buildInfo().isa).toBe('avx2');
  });
});

describe.runIf(hasAvx2)('conv2d small-K layers on the AVX2 tiles (the packed small-K forward, 6 x 16)', () => {
  it('fused epilogues, NaN and Inf in x: agree with the reference and with tfjs-backend-cpu', () => {
    const rand = rng(5050);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const activations = ['linear', 'relu', 'relu6', 'prelu', 'elu'] as const;
    for (let trial = 0; trial < 40; trial++) {
      const xShape = [int(1, 5), int(1, 13), int(1, 13), int(1, 3)];
      const fShape = [int(1, 4), int(1, 4), xShape[3], [1, 5, 8, 13, 16, 17, 33, 40][int(0, 7)]];
      const strides = trial % 3 === 2 ? 2 : 1;
      const dilations = strides === 1 && trial % 4 === 1 ? 2 : 1;
      const pad = (['same', 'valid', 1, [[0, 0], [1, 0], [0, 2], [0, 0]]] as const)[trial % 4];
      const options = { pad: pad as never, strides, dilations };
      let outShape: number[];
      try {
        outShape = resolveConv2D('test', xShape, fShape, options, false).outShape;
      } catch {
        continue;  // the filter does not fit
      }
      if (outShape[1] <= 0 || outShape[2] <= 0) continue;
      const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
      if (trial % 5 === 4) {
        for (const special of [NaN, Infinity, -Infinity]) xv[int(0, xv.length - 1)] = special;
      }
      const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
      const bv = randomValues(rand, fShape[3], 'float32', -1, 1);
      const activation = activations[trial % activations.length];
      const x = array(xv, xShape);
      const f = array(fv, fShape);
      const bias = array(bv, [fShape[3]]);
      const alpha = array(bv, [fShape[3]]);
      const fused = { ...options, bias, activation, preluActivationWeights: activation === 'prelu' ? alpha : undefined };
      const tol = { abs: 1e-6 * (fShape[0] * fShape[1] * fShape[2] + 1), rel: 1e-5 };
      const y = conv2d(x, f, fused);
      const yRef = conv2dRef(x, f, fused);
      expectClose(y.data, yRef.data, 'float32', tol);
      const attrs = { strides, pad, dilations, dataFormat: 'NHWC', activation };
      expectClose(y.data, tfjsCpu('FusedConv2D', {
        x: [xv, xShape], filter: [fv, fShape], bias: [bv, [fShape[3]]],
        ...(activation === 'prelu' ? { preluActivationWeights: [bv, [fShape[3]]] } : {}),
      } as Record<string, [number[], number[]]>, attrs), 'float32', tol);
      for (const a of [x, f, bias, alpha, y, yRef]) a.dispose();
    }
    expect(native.buildInfo().isa).toBe('avx2');
  });
});

function tfjsCpu(kernel: string, inputs: Record<string, [number[], number[]]>, attrs: Record<string, unknown>): Float32Array {
  tf.setBackend('cpu');
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, [values, shape]] of Object.entries(inputs)) tensors[name] = tf.tensor(values, shape, 'float32');
    return (tf.engine().runKernel(kernel, tensors, attrs as never) as tf.Tensor).dataSync() as Float32Array;
  });
}

describe.runIf(hasAvx2)('depthwise kernels on AVX2', () => {
  it('forward and gradients equal tfjs-backend-cpu bit for bit (channel tails, strides, multipliers)', () => {
    const rand = rng(4040);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 30; trial++) {
      const xShape = [int(1, 2), int(3, 12), int(3, 12), int(1, 21)];
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
