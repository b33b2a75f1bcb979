import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { describe, expect, it } from 'vitest';

import '../../src/index.js';
import {
  array, conv2d, conv2dBackpropFilter, conv2dBackpropFilterRef, conv2dBackpropInput, conv2dBackpropInputRef, conv2dRef,
  depthwiseConv2d, depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropFilterRef, depthwiseConv2dBackpropInput,
  depthwiseConv2dBackpropInputRef, depthwiseConv2dRef, resolveConv2D, type ConvOptions, type ConvPadding, type DeviceArray,
  type FusedActivation, type FusedConvOptions,
} from '../../src/kernels/index.js';
import { native } from '../../src/native.js';
import { checkLeaks, expectClose, randomValues, rng } from '../helpers.js';

checkLeaks();

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const ACTIVATIONS: FusedActivation[] = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];

interface Case {
  xShape: number[];
  filterShape: number[];
  options: ConvOptions;
  outShape: number[];
}

const sameArray = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

/** The output shape, or undefined where the filter does not fit or the output is empty. */
function outShapeOf(xShape: number[], filterShape: number[], options: ConvOptions, depthwise: boolean): number[] | undefined {
  try {
    const { outShape } = resolveConv2D('test', xShape, filterShape, options, depthwise);
    return outShape[1] > 0 && outShape[2] > 0 ? outShape : undefined;
  } catch {
    return undefined;
  }
}

/** A random geometry with a non-empty output: strides 1-3, dilations 1-3, every kind of padding. */
function randomCase(rand: () => number, depthwise: boolean, dilated = false): Case {
  for (;;) {
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const xShape = [int(1, 3), int(1, 9), int(1, 9), int(1, 5)];
    const filterShape = [int(1, 4), int(1, 4), xShape[3], depthwise ? int(1, 3) : int(1, 5)];
    // tfjs requires strides or dilations to be 1.
    const strides: [number, number] = dilated ? [1, 1] : [int(1, 3), int(1, 3)];
    const dilations: [number, number] = dilated ? [int(2, 3), int(2, 3)]
      : strides[0] === 1 && strides[1] === 1 && rand() < 0.5 ? [int(1, 3), int(1, 3)] : [1, 1];
    const padKind = int(0, 3);
    const pad: ConvPadding = padKind === 0 ? 'same' : padKind === 1 ? 'valid' : padKind === 2 ? int(0, 2)
      : [[0, 0], [int(0, 2), int(0, 2)], [int(0, 2), int(0, 2)], [0, 0]];
    const numeric = typeof pad === 'number' || Array.isArray(pad);
    const options: ConvOptions = { strides, dilations, pad };
    if (numeric && rand() < 0.5) options.dimRoundingMode = pick(rand, ['floor', 'round', 'ceil'] as const);
    const outShape = outShapeOf(xShape, filterShape, options, depthwise);
    if (outShape !== undefined) return { xShape, filterShape, options, outShape };
  }
}

/** The attrs tfjs passes its conv kernels. */
function tfAttrs(options: ConvOptions): Record<string, unknown> {
  return { strides: options.strides ?? 1, pad: options.pad ?? 'valid', dilations: options.dilations ?? 1, dimRoundingMode: options.dimRoundingMode, dataFormat: 'NHWC' };
}

/** tfjs-backend-cpu's kernel on the given inputs (values and shapes). */
function tfjsCpu(kernel: string, inputs: Record<string, [number[], number[]] | undefined>, attrs: Record<string, unknown>): Float32Array {
  tf.setBackend('cpu');
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor | undefined> = {};
    for (const [name, value] of Object.entries(inputs)) tensors[name] = value && tf.tensor(value[0], value[1], 'float32');
    return (tf.engine().runKernel(kernel, tensors as tf.NamedTensorMap, attrs as never) as tf.Tensor).dataSync() as Float32Array;
  });
}

/** Float32 rounding accumulates over the reduction: allow for it, scaled by the reduction length. */
function tolerance(reduction: number): { abs: number; rel: number } {
  return { abs: 1e-6 * (reduction + 1), rel: 1e-5 };
}

function disposeAll(...arrays: (DeviceArray | undefined)[]): void {
  for (const a of arrays) a?.dispose();
}

describe('conv2d', () => {
  it('random geometries agree with the reference and with tfjs-backend-cpu', () => {
    const rand = rng(101);
    for (let trial = 0; trial < 60; trial++) {
      const c = randomCase(rand, false);
      const xv = randomValues(rand, size(c.xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(c.filterShape), 'float32', -1, 1);
      const x = array(xv, c.xShape);
      const f = array(fv, c.filterShape);
      const out = conv2d(x, f, c.options);
      const ref = conv2dRef(x, f, c.options);
      expect(out.shape).toEqual(c.outShape);
      const tol = tolerance(c.filterShape[0] * c.filterShape[1] * c.filterShape[2]);
      expectClose(out.data, ref.data, 'float32', tol);
      expectClose(out.data, tfjsCpu('Conv2D', { x: [xv, c.xShape], filter: [fv, c.filterShape] }, tfAttrs(c.options)), 'float32', tol);
      disposeAll(x, f, out, ref);
    }
  });

  it('fused bias and every activation, with channel-wise and element-wise operands', () => {
    const rand = rng(202);
    for (let trial = 0; trial < 42; trial++) {
      const c = randomCase(rand, false);
      const [, oh, ow, oc] = c.outShape;
      const activation = ACTIVATIONS[trial % ACTIVATIONS.length];
      const operandShapes = [[oc], [1], [], [ow, oc], [oh, ow, 1], [1, 1, 1, oc], c.outShape];
      const biasShape = pick(rand, operandShapes);
      const alphaShape = pick(rand, operandShapes);
      const xv = randomValues(rand, size(c.xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(c.filterShape), 'float32', -1, 1);
      const bv = randomValues(rand, size(biasShape), 'float32', -1, 1);
      const av = randomValues(rand, size(alphaShape), 'float32', -1, 1);
      const x = array(xv, c.xShape);
      const f = array(fv, c.filterShape);
      const bias = rand() < 0.8 ? array(bv, biasShape) : undefined;
      const alpha = activation === 'prelu' ? array(av, alphaShape) : undefined;
      const options: FusedConvOptions = { ...c.options, bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.3 };
      const out = conv2d(x, f, options);
      const ref = conv2dRef(x, f, options);
      const tol = tolerance(c.filterShape[0] * c.filterShape[1] * c.filterShape[2]);
      expectClose(out.data, ref.data, 'float32', tol);
      const expected = tfjsCpu('FusedConv2D', {
        x: [xv, c.xShape], filter: [fv, c.filterShape], bias: bias && [bv, biasShape], preluActivationWeights: alpha && [av, alphaShape],
      }, { ...tfAttrs(c.options), activation, leakyreluAlpha: 0.3 });
      expectClose(out.data, expected, 'float32', tol);
      disposeAll(x, f, bias, alpha, out, ref);
    }
  });

  it('1x1 filters (the direct GEMM path) with batch > 1, and with strides', () => {
    const rand = rng(303);
    for (const [shape, strides] of [[[3, 7, 5, 6], 1], [[2, 4, 4, 9], 1], [[2, 7, 6, 3], 2]] as [number[], number][]) {
      const x = array(randomValues(rand, size(shape), 'float32', -1, 1), shape);
      const f = array(randomValues(rand, shape[3] * 4, 'float32', -1, 1), [1, 1, shape[3], 4]);
      const bias = array(randomValues(rand, 4, 'float32', -1, 1), [4]);
      const out = conv2d(x, f, { strides, bias, activation: 'relu' });
      const ref = conv2dRef(x, f, { strides, bias, activation: 'relu' });
      expectClose(out.data, ref.data, 'float32', tolerance(shape[3]));
      disposeAll(x, f, bias, out, ref);
    }
  });

  it('blocks of a large layer spanning several scratch blocks agree with the reference', () => {
    // k = 7 * 7 * 64 floats per pixel: the im2col matrix needs more than one block.
    const rand = rng(404);
    const x = array(randomValues(rand, 2 * 40 * 40 * 64, 'float32', -1, 1), [2, 40, 40, 64]);
    const f = array(randomValues(rand, 7 * 7 * 64 * 8, 'float32', -1, 1), [7, 7, 64, 8]);
    // Element-wise operands: each block must see its own rows of them.
    const bias = array(randomValues(rand, 40 * 40 * 8, 'float32', -1, 1), [40, 40, 8]);
    const alpha = array(randomValues(rand, 40 * 8, 'float32', -1, 1), [1, 40, 1, 8]);
    const options: FusedConvOptions = { pad: 'same', bias, activation: 'prelu', preluActivationWeights: alpha };
    const out = conv2d(x, f, options);
    const ref = conv2dRef(x, f, options);
    expectClose(out.data, ref.data, 'float32', tolerance(7 * 7 * 64));
    disposeAll(x, f, bias, alpha, out, ref);
  });

  it('1x56x56x64 -> 64, 3x3 same, agrees with the reference', () => {
    const rand = rng(505);
    const x = array(randomValues(rand, 56 * 56 * 64, 'float32', -1, 1), [1, 56, 56, 64]);
    const f = array(randomValues(rand, 3 * 3 * 64 * 64, 'float32', -1, 1), [3, 3, 64, 64]);
    const out = conv2d(x, f, { pad: 'same' });
    const ref = conv2dRef(x, f, { pad: 'same' });
    expectClose(out.data, ref.data, 'float32', tolerance(3 * 3 * 64));
    disposeAll(x, f, out, ref);
  });

  it('NaN and Inf: in the input, and in filters next to padding (products tfjs never forms)', () => {
    const rand = rng(606);
    const special = [NaN, Infinity, -Infinity];
    for (const where of ['x', 'filter'] as const) {
      for (const pad of ['same', 'valid', [[0, 0], [2, 1], [0, 2], [0, 0]]] as ConvPadding[]) {
        const xShape = [2, 6, 5, 3];
        const fShape = [3, 3, 3, 4];
        const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
        const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
        const target = where === 'x' ? xv : fv;
        for (let i = 0; i < 3; i++) target[Math.floor(rand() * target.length)] = special[i];
        const x = array(xv, xShape);
        const f = array(fv, fShape);
        const out = conv2d(x, f, { pad });
        const ref = conv2dRef(x, f, { pad });
        expectClose(out.data, ref.data, 'float32', tolerance(27));
        expectClose(out.data, tfjsCpu('Conv2D', { x: [xv, xShape], filter: [fv, fShape] }, tfAttrs({ pad })), 'float32', tolerance(27));
        disposeAll(x, f, out, ref);
      }
    }
  });

  it('empty batch, no input channels, no output channels', () => {
    const x0 = array([], [0, 5, 5, 3]);
    const f = array(randomValues(rng(7), 27 * 2, 'float32'), [3, 3, 3, 2]);
    const out0 = conv2d(x0, f, { pad: 'same' });
    expect(out0.shape).toEqual([0, 5, 5, 2]);
    // With no input channels the sum is empty: the output is the bias alone.
    const xc = array([], [1, 4, 4, 0]);
    const fc = array([], [3, 3, 0, 2]);
    const bias = array([1.5, -2], [2]);
    const outc = conv2d(xc, fc, { pad: 'same', bias, activation: 'relu' });
    expect([...outc.data]).toEqual(Array.from({ length: 16 }, () => [1.5, 0]).flat());
    const xo = array(randomValues(rng(8), 2 * 4 * 4 * 3, 'float32'), [2, 4, 4, 3]);
    const fo = array([], [2, 2, 3, 0]);
    const outo = conv2d(xo, fo);
    expect(outo.shape).toEqual([2, 3, 3, 0]);
    disposeAll(x0, f, out0, xc, fc, bias, outc, xo, fo, outo);
  });

  it('bad arguments give errors naming the op, the argument and what was expected', () => {
    const x = array(randomValues(rng(9), 2 * 5 * 5 * 3, 'float32'), [2, 5, 5, 3]);
    const f = array(randomValues(rng(10), 3 * 3 * 3 * 4, 'float32'), [3, 3, 3, 4]);
    const f2 = array(randomValues(rng(11), 3 * 3 * 2 * 4, 'float32'), [3, 3, 2, 4]);
    const xi = array([1, 2, 3, 4], [1, 2, 2, 1], 'int32');
    const big = array(randomValues(rng(12), 9 * 9 * 3, 'float32'), [9, 9, 3, 1]);
    const badBias = array([1, 2, 3], [3]);
    expect(() => conv2d(x, f2)).toThrow('conv2d: expected filter.shape[2] equal to the input channels (3) but got filter shape [3,3,2,4]');
    expect(() => conv2d(xi, f)).toThrow('conv2d: expected dtype float32 for x but got int32');
    const flat = array([1], [1]);
    expect(() => conv2d(x, flat)).toThrow('conv2d: expected rank 4 for filter but got shape [1]');
    flat.dispose();
    expect(() => conv2d(f.data as never, f)).toThrow('conv2d: expected a DeviceArray for x but got a Float32Array');
    expect(() => conv2d(x, f, { strides: 0 })).toThrow('conv2d: expected a positive integer or a pair of them for strides but got 0');
    expect(() => conv2d(x, f, { dilations: [1, 1.5] })).toThrow('conv2d: expected a positive integer or a pair of them for dilations but got [1,1.5]');
    expect(() => conv2d(x, f, { pad: 'full' as never })).toThrow(`conv2d: expected 'same', 'valid', a non-negative integer or [[0, 0], [top, bottom], [left, right], [0, 0]] for pad but got "full"`);
    expect(() => conv2d(x, f, { pad: [[1, 0], [1, 1], [1, 1], [0, 0]] })).toThrow('for pad but got [[1,0],[1,1],[1,1],[0,0]]');
    expect(() => conv2d(x, big)).toThrow('conv2d: expected a filter that fits the padded input but got output size -3x-3');
    expect(() => conv2d(x, f, { bias: badBias })).toThrow('conv2d: expected a shape that broadcasts to the output shape [2,3,3,4] for bias but got [3]');
    expect(() => conv2d(x, f, { activation: 'prelu' })).toThrow('conv2d: expected a DeviceArray for preluActivationWeights but got undefined');
    expect(() => conv2d(x, f, { activation: 'tanh' as never })).toThrow('conv2d: expected one of linear, relu, relu6, elu, sigmoid, leakyrelu, prelu for activation but got "tanh"');
    expect(() => conv2dBackpropInput(x, f, [2, 5, 5, 3])).toThrow('conv2dBackpropInput: expected shape [2,3,3,4] (the convolution\'s output) for dy but got [2,5,5,3]');
    expect(() => conv2dBackpropFilter(x, x, [3, 3, 3])).toThrow('conv2dBackpropFilter: expected a shape of 4 non-negative integers for filterShape but got [3,3,3]');
    disposeAll(x, f, f2, xi, big, badBias);
  });
});

/** Whether the engine takes the small-K forward on the direct engine's ISAs (SmallKPays, conv_smallk.cc). */
function smallKPays(xShape: number[], filterShape: number[], strides: number[]): boolean {
  const [kh, kw, ic] = filterShape;
  return kh * kw * ic >= 1 && kh * kw * ic <= 128 && ic <= 4 && kw * ic <= 12 && strides[0] <= 2 && strides[1] <= 2;
}

/** A random geometry of few input channels and a short reduction (the small-K forward's). */
function smallKCase(rand: () => number): Case {
  for (;;) {
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const xShape = [int(1, 5), int(1, 14), int(1, 14), int(1, 3)];
    const filterShape = [int(1, 5), int(1, 5), xShape[3], pick(rand, [1, 3, 8, 13, 16, 31, 32, 33, 40, 64, 70])];
    // tfjs requires strides or dilations to be 1.
    const strides: [number, number] = rand() < 0.4 ? [int(1, 2), int(1, 2)] : [1, 1];
    const dilations: [number, number] = strides[0] === 1 && strides[1] === 1 && rand() < 0.3 ? [int(1, 3), int(1, 3)] : [1, 1];
    const padKind = int(0, 3);
    const pad: ConvPadding = padKind === 0 ? 'same' : padKind === 1 ? 'valid' : padKind === 2 ? int(0, 2)
      : [[0, 0], [int(0, 2), int(0, 2)], [int(0, 2), int(0, 2)], [0, 0]];
    const options: ConvOptions = { strides, dilations, pad };
    if (typeof pad !== 'string' && rand() < 0.5) options.dimRoundingMode = pick(rand, ['floor', 'round', 'ceil'] as const);
    const outShape = outShapeOf(xShape, filterShape, options, false);
    if (outShape !== undefined) return { xShape, filterShape, options, outShape };
  }
}

describe('conv2d small-K layers (the packed small-K forward)', () => {
  const variants = native.convLabVariants('forward');
  const smallK = variants.findIndex((v) => v.name === 'smallk-packed');
  const direct = [variants.findIndex((v) => v.name === 'direct-avx512'), variants.findIndex((v) => v.name === 'direct-avx2')]
    .find((i) => variants[i].available);

  it('fused bias and every activation, NaN and Inf in x: agree with the reference and with tfjs-backend-cpu', () => {
    const rand = rng(1616);
    let taken = 0;
    for (let trial = 0; trial < 60; trial++) {
      const c = smallKCase(rand);
      const [, oh, ow, oc] = c.outShape;
      const activation = ACTIVATIONS[trial % ACTIVATIONS.length];
      const operandShapes = [[oc], [oc], [1], [ow, oc], [oh, ow, 1], c.outShape];
      const biasShape = pick(rand, operandShapes);
      const alphaShape = pick(rand, operandShapes);
      const xv = randomValues(rand, size(c.xShape), 'float32', -1, 1);
      if (trial % 4 === 3) {
        for (const special of [NaN, Infinity, -Infinity]) xv[Math.floor(rand() * xv.length)] = special;
      }
      const fv = randomValues(rand, size(c.filterShape), 'float32', -1, 1);
      const bv = randomValues(rand, size(biasShape), 'float32', -1, 1);
      const av = randomValues(rand, size(alphaShape), 'float32', -1, 1);
      const x = array(xv, c.xShape);
      const f = array(fv, c.filterShape);
      const bias = trial % 5 !== 4 ? array(bv, biasShape) : undefined;
      const alpha = activation === 'prelu' ? array(av, alphaShape) : undefined;
      const options: FusedConvOptions = { ...c.options, bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.3 };
      const out = conv2d(x, f, options);
      const ref = conv2dRef(x, f, options);
      const tol = tolerance(c.filterShape[0] * c.filterShape[1] * c.filterShape[2]);
      expectClose(out.data, ref.data, 'float32', tol);
      const expected = tfjsCpu('FusedConv2D', {
        x: [xv, c.xShape], filter: [fv, c.filterShape], bias: bias && [bv, biasShape], preluActivationWeights: alpha && [av, alphaShape],
      }, { ...tfAttrs(c.options), activation, leakyreluAlpha: 0.3 });
      expectClose(out.data, expected, 'float32', tol);
      const strides = c.options.strides as number[];
      if (smallKPays(c.xShape, c.filterShape, strides)) taken++;
      disposeAll(x, f, bias, alpha, out, ref);
    }
    // Most of them take the small-K forward (the rest: a 5-wide filter over 3 channels).
    expect(taken).toBeGreaterThan(40);
  });

  it('bit for bit the direct engine (the same order of sums), with every tile; the engine takes it', () => {
    const rand = rng(1717);
    for (let trial = 0; trial < 40; trial++) {
      const c = smallKCase(rand);
      const { geometry } = resolveConv2D('test', c.xShape, c.filterShape, c.options, false);
      const x = new Float32Array(randomValues(rand, size(c.xShape), 'float32', -1, 1));
      if (trial % 3 === 2) x[Math.floor(rand() * x.length)] = trial % 2 ? NaN : -Infinity;
      const w = new Float32Array(randomValues(rand, size(c.filterShape), 'float32', -1, 1));
      const run = (variant: number, options = [0, 0, 0, 0, 0, 0, 0]) => {
        const out = new Float32Array(size(c.outShape)).fill(NaN);
        expect(native.convLab('forward', variant, c.xShape, c.filterShape, geometry, x, w, out, options)).toBe(true);
        return out;
      };
      const exact = { abs: 0, rel: 0 };
      const packed = run(smallK);
      if (direct !== undefined) expectClose(packed, run(direct), 'float32', exact);
      for (const tile of variants[smallK].tiles) {
        const [r, cols] = tile.split('x').map(Number);
        expectClose(run(smallK, [r, cols, 0, 0, 0, 0, 0]), packed, 'float32', exact);
      }
      const engine = run(variants.findIndex((v) => v.name === 'engine'));
      if (smallKPays(c.xShape, c.filterShape, c.options.strides as number[])) expectClose(engine, packed, 'float32', exact);
      else expectClose(engine, packed, 'float32', tolerance(c.filterShape[0] * c.filterShape[1] * c.filterShape[2]));
    }
  });

  it('the convnet layers (28x28x1 -> 32, 32x32x3 -> 32 same, 3x3 at stride 2) and empty ones', () => {
    const rand = rng(1818);
    for (const [xShape, fShape, options] of [
      [[5, 28, 28, 1], [3, 3, 1, 32], {}],
      [[2, 32, 32, 3], [3, 3, 3, 32], { pad: 'same' }],
      [[1, 33, 31, 3], [3, 3, 3, 24], { pad: 'same', strides: 2 }],
      [[3, 17, 19, 2], [5, 5, 2, 20], { pad: [[0, 0], [2, 1], [0, 2], [0, 0]] }],
    ] as [number[], number[], FusedConvOptions][]) {
      const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
      const bv = randomValues(rand, fShape[3], 'float32', -1, 1);
      const x = array(xv, xShape);
      const f = array(fv, fShape);
      const bias = array(bv, [fShape[3]]);
      const out = conv2d(x, f, { ...options, bias, activation: 'relu' });
      const expected = tfjsCpu('FusedConv2D', { x: [xv, xShape], filter: [fv, fShape], bias: [bv, [fShape[3]]] },
        { ...tfAttrs(options), activation: 'relu' });
      expectClose(out.data, expected, 'float32', tolerance(fShape[0] * fShape[1] * fShape[2]));
      disposeAll(x, f, bias, out);
    }
    const x0 = array([], [0, 6, 6, 1]);
    const f0 = array(randomValues(rand, 9 * 4, 'float32'), [3, 3, 1, 4]);
    const out0 = conv2d(x0, f0, { pad: 'same' });
    expect(out0.shape).toEqual([0, 6, 6, 4]);
    const xo = array(randomValues(rand, 2 * 5 * 5 * 2, 'float32'), [2, 5, 5, 2]);
    const fo = array([], [3, 3, 2, 0]);
    const outo = conv2d(xo, fo, { pad: 'same' });
    expect(outo.shape).toEqual([2, 5, 5, 0]);
    disposeAll(x0, f0, out0, xo, fo, outo);
  });
});

describe('conv2d gradients', () => {
  it('random geometries agree with the reference and with tfjs-backend-cpu', () => {
      const rand = rng(707);
      for (let trial = 0; trial < 60; trial++) {
        const c = randomCase(rand, false);
        // tfjs's conv gradients take no dilations.
        c.options.dilations = 1;
        const outShape = outShapeOf(c.xShape, c.filterShape, c.options, false);
        if (outShape === undefined) continue;
        c.outShape = outShape;
        const xv = randomValues(rand, size(c.xShape), 'float32', -1, 1);
        const fv = randomValues(rand, size(c.filterShape), 'float32', -1, 1);
        const dyv = randomValues(rand, size(c.outShape), 'float32', -1, 1);
        const x = array(xv, c.xShape);
        const f = array(fv, c.filterShape);
        const dy = array(dyv, c.outShape);
        const dx = conv2dBackpropInput(dy, f, c.xShape, c.options);
        const dxRef = conv2dBackpropInputRef(dy, f, c.xShape, c.options);
        const [kh, kw, , oc] = c.filterShape;
        expectClose(dx.data, dxRef.data, 'float32', tolerance(kh * kw * oc));
        expectClose(dx.data, tfjsCpu('Conv2DBackpropInput', { dy: [dyv, c.outShape], filter: [fv, c.filterShape] },
          { ...tfAttrs(c.options), inputShape: c.xShape }), 'float32', tolerance(kh * kw * oc));
        const dw = conv2dBackpropFilter(x, dy, c.filterShape, c.options);
        const dwRef = conv2dBackpropFilterRef(x, dy, c.filterShape, c.options);
        const pixels = size(c.outShape) / oc;
        expectClose(dw.data, dwRef.data, 'float32', tolerance(pixels));
        expectClose(dw.data, tfjsCpu('Conv2DBackpropFilter', { x: [xv, c.xShape], dy: [dyv, c.outShape] },
          { ...tfAttrs(c.options), filterShape: c.filterShape }), 'float32', tolerance(pixels));
        disposeAll(x, f, dy, dx, dxRef, dw, dwRef);
      }
  });

  it('dilated gradients agree with the reference', () => {
    const rand = rng(808);
    for (let trial = 0; trial < 20; trial++) {
      const c = randomCase(rand, false, true);
      const x = array(randomValues(rand, size(c.xShape), 'float32', -1, 1), c.xShape);
      const f = array(randomValues(rand, size(c.filterShape), 'float32', -1, 1), c.filterShape);
      const dy = array(randomValues(rand, size(c.outShape), 'float32', -1, 1), c.outShape);
      const dx = conv2dBackpropInput(dy, f, c.xShape, c.options);
      const dxRef = conv2dBackpropInputRef(dy, f, c.xShape, c.options);
      expectClose(dx.data, dxRef.data, 'float32', tolerance(size(c.filterShape)));
      const dw = conv2dBackpropFilter(x, dy, c.filterShape, c.options);
      const dwRef = conv2dBackpropFilterRef(x, dy, c.filterShape, c.options);
      expectClose(dw.data, dwRef.data, 'float32', tolerance(size(c.outShape)));
      disposeAll(x, f, dy, dx, dxRef, dw, dwRef);
    }
  });

  it('1x1 and multi-block layers agree with the reference', () => {
    const rand = rng(909);
    for (const [xShape, fShape, pad] of [
      [[3, 6, 5, 7], [1, 1, 7, 5], 'valid'],
      [[2, 40, 40, 64], [7, 7, 64, 8], 'same'],
    ] as [number[], number[], ConvPadding][]) {
      const outShape = resolveConv2D('test', xShape, fShape, { pad }, false).outShape;
      const x = array(randomValues(rand, size(xShape), 'float32', -1, 1), xShape);
      const f = array(randomValues(rand, size(fShape), 'float32', -1, 1), fShape);
      const dy = array(randomValues(rand, size(outShape), 'float32', -1, 1), outShape);
      const dx = conv2dBackpropInput(dy, f, xShape, { pad });
      const dxRef = conv2dBackpropInputRef(dy, f, xShape, { pad });
      expectClose(dx.data, dxRef.data, 'float32', tolerance(fShape[0] * fShape[1] * fShape[3]));
      const dw = conv2dBackpropFilter(x, dy, fShape, { pad });
      const dwRef = conv2dBackpropFilterRef(x, dy, fShape, { pad });
      expectClose(dw.data, dwRef.data, 'float32', tolerance(size(outShape) / fShape[3]));
      disposeAll(x, f, dy, dx, dxRef, dw, dwRef);
    }
  });

  it('NaN and Inf in dy next to padding reach only the products tfjs forms', () => {
    const rand = rng(1010);
    const xShape = [2, 6, 5, 3];
    const fShape = [3, 3, 3, 4];
    for (const pad of ['same', [[0, 0], [1, 2], [2, 0], [0, 0]]] as ConvPadding[]) {
      const outShape = resolveConv2D('test', xShape, fShape, { pad }, false).outShape;
      const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
      const dyv = randomValues(rand, size(outShape), 'float32', -1, 1);
      dyv[0] = Infinity;
      dyv[dyv.length - 1] = NaN;
      fv[5] = -Infinity;
      const x = array(xv, xShape);
      const f = array(fv, fShape);
      const dy = array(dyv, outShape);
      const attrs = tfAttrs({ pad });
      const dx = conv2dBackpropInput(dy, f, xShape, { pad });
      expectClose(dx.data, tfjsCpu('Conv2DBackpropInput', { dy: [dyv, outShape], filter: [fv, fShape] }, { ...attrs, inputShape: xShape }), 'float32', tolerance(36));
      const dw = conv2dBackpropFilter(x, dy, fShape, { pad });
      const dwRef = conv2dBackpropFilterRef(x, dy, fShape, { pad });
      expectClose(dw.data, dwRef.data, 'float32', tolerance(60));
      expectClose(dw.data, tfjsCpu('Conv2DBackpropFilter', { x: [xv, xShape], dy: [dyv, outShape] }, { ...attrs, filterShape: fShape }), 'float32', tolerance(60));
      disposeAll(x, f, dy, dx, dw, dwRef);
    }
  });

  it('empty batch gives a zero filter gradient and an empty input gradient', () => {
    const x = array([], [0, 4, 4, 2]);
    const dy = array([], [0, 4, 4, 3]);
    const f = array(randomValues(rng(11), 3 * 3 * 2 * 3, 'float32'), [3, 3, 2, 3]);
    const dw = conv2dBackpropFilter(x, dy, [3, 3, 2, 3], { pad: 'same' });
    expect([...dw.data]).toEqual(new Array(54).fill(0));
    const dx = conv2dBackpropInput(dy, f, [0, 4, 4, 2], { pad: 'same' });
    expect(dx.shape).toEqual([0, 4, 4, 2]);
    disposeAll(x, dy, f, dw, dx);
  });
});

/** A random geometry with channels enough for the direct tiles: full and partial column panels, tile rows past the end. */
function wideCase(rand: () => number, stridesToo = true): Case {
  for (;;) {
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const xShape = [int(1, 3), int(1, 11), int(1, 11), pick(rand, [1, 3, 8, 13, 16, 32, 37])];
    const filterShape = [int(1, 4), int(1, 4), xShape[3], pick(rand, [1, 5, 8, 16, 24, 32, 40, 64, 70])];
    const strides: [number, number] = stridesToo && rand() < 0.4 ? [int(1, 3), int(1, 3)] : [1, 1];
    const dilations: [number, number] = rand() < 0.3 ? [int(1, 3), int(1, 3)] : [1, 1];
    const padKind = int(0, 3);
    const pad: ConvPadding = padKind === 0 ? 'same' : padKind === 1 ? 'valid' : padKind === 2 ? int(0, 3)
      : [[0, 0], [int(0, 3), int(0, 3)], [int(0, 3), int(0, 3)], [0, 0]];
    const options: ConvOptions = { strides, dilations, pad };
    const outShape = outShapeOf(xShape, filterShape, options, false);
    if (outShape !== undefined) return { xShape, filterShape, options, outShape };
  }
}

/** kSmallKMax (native/cpu/conv_kernels.h): the longest reduction the small-K forward takes. */
const SMALL_K_MAX = 128;

describe('conv lab', () => {
  const PASSES = ['forward', 'input', 'filter'] as const;
  type Pass = typeof PASSES[number];

  /** [a, b, out shape, reduction length] of a pass. */
  function operands(pass: Pass, c: Case, x: Float32Array, w: Float32Array, dy: Float32Array): [Float32Array, Float32Array, number[], number] {
    const [kh, kw, ic, oc] = c.filterShape;
    if (pass === 'forward') return [x, w, c.outShape, kh * kw * ic];
    if (pass === 'input') return [dy, w, c.xShape, kh * kw * oc];
    return [x, dy, c.filterShape, size(c.outShape) / oc];
  }

  function reference(pass: Pass, c: Case, geometry: number[], x: Float32Array, w: Float32Array, dy: Float32Array): Float32Array {
    const out = new Float32Array(size(operands(pass, c, x, w, dy)[2]));
    if (pass === 'forward') native.conv2dRef(x, c.xShape, w, c.filterShape, out, geometry, null, null, 'linear', null, null, 0.2);
    if (pass === 'input') native.conv2dBackpropInputRef(dy, c.outShape, w, c.filterShape, out, c.xShape, geometry);
    if (pass === 'filter') native.conv2dBackpropFilterRef(x, c.xShape, dy, c.outShape, out, c.filterShape, geometry);
    return out;
  }

  /** Whether the small-K variant runs: the forward with 1 <= K <= kSmallKMax (conv_kernels.h). */
  function smallKApplies(pass: Pass, filterShape: number[]): boolean {
    const k = filterShape[0] * filterShape[1] * filterShape[2];
    return pass === 'forward' && k >= 1 && k <= SMALL_K_MAX;
  }

  /** The lab options each variant runs with: its defaults, and for the direct ones every tile and mode. */
  function optionSets(pass: Pass, name: string, tiles: string[]): number[][] {
    const sets = [[0, 0, 0, 0, 0, 0, 0]];
    if (name === 'im2col-blocked') sets.push([0, 0, 0, 1, 0, 0, 0]);
    for (const tile of tiles) {
      const [r, c] = tile.split('x').map(Number);
      if (name === 'smallk-packed') sets.push([r, c, 0, 0, 0, 0, 0]);
      else if (pass === 'filter') sets.push([r, c, 16, 0, 0, 1, 0], [r, c, 0, 0, 0, 2, 0]);
      else if (pass === 'input') sets.push([r, c, 0, 0, 1, 0, 1], [r, c, 0, 0, 2, 0, 1], [r, c, 0, 0, 0, 0, 2]);
      else sets.push([r, c, 0, 0, 1, 0, 0], [r, c, 0, 0, 2, 0, 0]);
    }
    return sets;
  }

  it('lists the variants, the direct ones with their tiles', () => {
    for (const pass of PASSES) {
      const variants = native.convLabVariants(pass);
      expect(variants.map((v) => v.name)).toEqual(['naive', 'im2col+ref-gemm', 'im2col-whole', 'im2col-blocked', 'pointwise-gemm',
        'direct-avx2', 'direct-avx512', 'engine', 'smallk-packed']);
      for (const v of variants) expect(v.tiles.length > 0).toBe(v.name.startsWith('direct') || v.name === 'smallk-packed');
    }
  });

  it('every variant, tile and mode agrees with the reference on random geometries (strides, dilations, padding, batch)', () => {
    const rand = rng(1111);
    for (let trial = 0; trial < 24; trial++) {
      const c = wideCase(rand);
      const { geometry } = resolveConv2D('test', c.xShape, c.filterShape, c.options, false);
      const x = new Float32Array(randomValues(rand, size(c.xShape), 'float32', -1, 1));
      const w = new Float32Array(randomValues(rand, size(c.filterShape), 'float32', -1, 1));
      const dy = new Float32Array(randomValues(rand, size(c.outShape), 'float32', -1, 1));
      const strided = geometry[0] > 1 || geometry[1] > 1;
      for (const pass of PASSES) {
        const [a, b, outShape, reduction] = operands(pass, c, x, w, dy);
        const ref = reference(pass, c, geometry, x, w, dy);
        const tol = tolerance(reduction);
        native.convLabVariants(pass).forEach((variant, v) => {
          if (!variant.available) return;
          // The scalar variants only on the first few (they are slow, and simple).
          if (v < 2 && trial >= 6) return;
          for (const options of optionSets(pass, variant.name, variant.tiles)) {
            const out = new Float32Array(size(outShape)).fill(NaN);
            const applied = native.convLab(pass, v, c.xShape, c.filterShape, geometry, a, b, out, options);
            const pointwise = c.filterShape[0] === 1 && c.filterShape[1] === 1 && sameArray(c.xShape, [...c.outShape.slice(0, 3), c.xShape[3]]) &&
              !strided && geometry[4] === 0 && geometry[5] === 0;
            const channelRowsMissing = pass === 'filter' && options[5] === 2 && c.filterShape[3] % options[0] !== 0;
            const transposedOnStrides = pass === 'input' && options[6] === 1 && strided;
            const expected = variant.name === 'pointwise-gemm' ? pointwise
              : variant.name.startsWith('direct') ? !transposedOnStrides && !channelRowsMissing
              : variant.name === 'smallk-packed' ? smallKApplies(pass, c.filterShape) : true;
            expect(applied, `${pass} ${variant.name} [${options}] applies`).toBe(expected);
            if (applied) expectClose(out, ref, 'float32', tol);
          }
        });
      }
    }
  });

  it('1x1 filters: every variant, stride 1 (the pointwise GEMM) and strided', () => {
    const rand = rng(1212);
    for (const [xShape, oc, strides] of [[[3, 7, 5, 16], 24, 1], [[2, 4, 4, 40], 70, 1], [[2, 7, 6, 13], 32, 2]] as [number[], number, number][]) {
      const c: Case = { xShape, filterShape: [1, 1, xShape[3], oc], options: { strides }, outShape: [] };
      c.outShape = outShapeOf(c.xShape, c.filterShape, c.options, false)!;
      const { geometry } = resolveConv2D('test', c.xShape, c.filterShape, c.options, false);
      const x = new Float32Array(randomValues(rand, size(c.xShape), 'float32', -1, 1));
      const w = new Float32Array(randomValues(rand, size(c.filterShape), 'float32', -1, 1));
      const dy = new Float32Array(randomValues(rand, size(c.outShape), 'float32', -1, 1));
      for (const pass of PASSES) {
        const [a, b, outShape, reduction] = operands(pass, c, x, w, dy);
        const ref = reference(pass, c, geometry, x, w, dy);
        native.convLabVariants(pass).forEach((variant, v) => {
          if (!variant.available) return;
          const out = new Float32Array(size(outShape)).fill(NaN);
          const applied = native.convLab(pass, v, c.xShape, c.filterShape, geometry, a, b, out, [0, 0, 0, 0, 0, 0, 0]);
          expect(applied).toBe(variant.name === 'smallk-packed' ? smallKApplies(pass, c.filterShape)
            : !(variant.name === 'pointwise-gemm' && strides > 1));
          if (applied) expectClose(out, ref, 'float32', tolerance(reduction));
        });
      }
    }
  });

  it('a layer large enough to thread: the backprop filter summed over parts of the reduction', () => {
    const rand = rng(1313);
    const c: Case = { xShape: [4, 20, 20, 16], filterShape: [3, 3, 16, 32], options: { pad: 'same' }, outShape: [4, 20, 20, 32] };
    const { geometry } = resolveConv2D('test', c.xShape, c.filterShape, c.options, false);
    const x = new Float32Array(randomValues(rand, size(c.xShape), 'float32', -1, 1));
    const w = new Float32Array(randomValues(rand, size(c.filterShape), 'float32', -1, 1));
    const dy = new Float32Array(randomValues(rand, size(c.outShape), 'float32', -1, 1));
    for (const pass of PASSES) {
      const [a, b, outShape, reduction] = operands(pass, c, x, w, dy);
      const ref = reference(pass, c, geometry, x, w, dy);
      native.convLabVariants(pass).forEach((variant, v) => {
        if (!variant.available || !variant.name.startsWith('direct')) return;
        for (const options of [[0, 0, 0, 0, 0, 0, 0], [0, 0, 40, 0, 0, 1, 1], [0, 0, 40, 0, 0, 2, 2]]) {
          const out = new Float32Array(size(outShape)).fill(NaN);
          expect(native.convLab(pass, v, c.xShape, c.filterShape, geometry, a, b, out, options)).toBe(true);
          expectClose(out, ref, 'float32', tolerance(reduction));
        }
      });
    }
  });

  it('rejects unknown variants and tiles', () => {
    const geometry = [1, 1, 1, 1, 0, 0, 2, 2];
    const x = new Float32Array(2 * 2 * 3);
    const w = new Float32Array(3 * 4);
    const y = new Float32Array(2 * 2 * 4);
    expect(() => native.convLab('forward', 99, [1, 2, 2, 3], [1, 1, 3, 4], geometry, x, w, y, [0, 0, 0, 0, 0, 0, 0])).toThrow('convLab: no variant 99');
    const direct = native.convLabVariants('forward').findIndex((v) => v.available && v.name.startsWith('direct'));
    expect(() => native.convLab('forward', direct, [1, 2, 2, 3], [1, 1, 3, 4], geometry, x, w, y, [5, 7, 0, 0, 0, 0, 0])).toThrow('tile of 5x7');
    expect(() => native.convLab('sideways' as never, 0, [1, 2, 2, 3], [1, 1, 3, 4], geometry, x, w, y, [0, 0, 0, 0, 0, 0, 0]))
      .toThrow("convLab: expected one of forward, input, filter for pass but got 'sideways'");
  });
});

describe('conv2d engine on wide layers (the direct tiles)', () => {
  it('forward (fused), both gradients: agree with the reference and with tfjs-backend-cpu', () => {
    const rand = rng(1414);
    for (let trial = 0; trial < 16; trial++) {
      const c = wideCase(rand);
      const activation = ACTIVATIONS[trial % ACTIVATIONS.length];
      const oc = c.filterShape[3];
      const xv = randomValues(rand, size(c.xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(c.filterShape), 'float32', -1, 1);
      const dyv = randomValues(rand, size(c.outShape), 'float32', -1, 1);
      const bv = randomValues(rand, oc, 'float32', -1, 1);
      const x = array(xv, c.xShape);
      const f = array(fv, c.filterShape);
      const dy = array(dyv, c.outShape);
      const bias = array(bv, [oc]);
      const alpha = array(bv, [oc]);
      const options: FusedConvOptions = { ...c.options, bias, activation, preluActivationWeights: activation === 'prelu' ? alpha : undefined };
      const y = conv2d(x, f, options);
      const yRef = conv2dRef(x, f, options);
      const [kh, kw, ic] = c.filterShape;
      expectClose(y.data, yRef.data, 'float32', tolerance(kh * kw * ic));
      const gradOptions = { ...c.options, dilations: 1 };
      const outShape = outShapeOf(c.xShape, c.filterShape, gradOptions, false);
      if (outShape !== undefined && sameArray(outShape, c.outShape)) {
        const dx = conv2dBackpropInput(dy, f, c.xShape, gradOptions);
        expectClose(dx.data, tfjsCpu('Conv2DBackpropInput', { dy: [dyv, c.outShape], filter: [fv, c.filterShape] },
          { ...tfAttrs(gradOptions), inputShape: c.xShape }), 'float32', tolerance(kh * kw * oc));
        const dw = conv2dBackpropFilter(x, dy, c.filterShape, gradOptions);
        expectClose(dw.data, tfjsCpu('Conv2DBackpropFilter', { x: [xv, c.xShape], dy: [dyv, c.outShape] },
          { ...tfAttrs(gradOptions), filterShape: c.filterShape }), 'float32', tolerance(size(c.outShape) / oc));
        disposeAll(dx, dw);
      }
      disposeAll(x, f, dy, bias, alpha, y, yRef);
    }
  });

  it('NaN and Inf next to padding on wide layers reach only the products tfjs forms', () => {
    const rand = rng(1515);
    // 288 input pixels: enough for the direct backprop input too.
    const xShape = [2, 12, 12, 16];
    const fShape = [3, 3, 16, 32];
    for (const pad of ['same', [[0, 0], [1, 2], [2, 0], [0, 0]]] as ConvPadding[]) {
      const outShape = resolveConv2D('test', xShape, fShape, { pad }, false).outShape;
      const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
      const dyv = randomValues(rand, size(outShape), 'float32', -1, 1);
      // An Inf and a NaN in x's first and last pixels, in the filter's corner taps and in dy's borders.
      xv[3] = Infinity;
      xv[xv.length - 2] = NaN;
      fv[7] = -Infinity;
      fv[fv.length - 5] = NaN;
      dyv[1] = Infinity;
      dyv[dyv.length - 1] = NaN;
      const attrs = tfAttrs({ pad });
      const x = array(xv, xShape);
      const f = array(fv, fShape);
      const dy = array(dyv, outShape);
      const y = conv2d(x, f, { pad });
      expectClose(y.data, tfjsCpu('Conv2D', { x: [xv, xShape], filter: [fv, fShape] }, attrs), 'float32', tolerance(144));
      const dx = conv2dBackpropInput(dy, f, xShape, { pad });
      expectClose(dx.data, tfjsCpu('Conv2DBackpropInput', { dy: [dyv, outShape], filter: [fv, fShape] }, { ...attrs, inputShape: xShape }),
        'float32', tolerance(288));
      const dw = conv2dBackpropFilter(x, dy, fShape, { pad });
      expectClose(dw.data, tfjsCpu('Conv2DBackpropFilter', { x: [xv, xShape], dy: [dyv, outShape] }, { ...attrs, filterShape: fShape }),
        'float32', tolerance(84));
      // Finite filter and dy: the direct passes themselves, with the non-finite x.
      const fFinite = array(fv.map((v) => (Number.isFinite(v) ? v : 0.5)), fShape);
      const dyFinite = array(dyv.map((v) => (Number.isFinite(v) ? v : 0.5)), outShape);
      const y2 = conv2d(x, fFinite, { pad });
      const y2Ref = conv2dRef(x, fFinite, { pad });
      expectClose(y2.data, y2Ref.data, 'float32', tolerance(144));
      const dw2 = conv2dBackpropFilter(x, dyFinite, fShape, { pad });
      const dw2Ref = conv2dBackpropFilterRef(x, dyFinite, fShape, { pad });
      expectClose(dw2.data, dw2Ref.data, 'float32', tolerance(84));
      // A finite filter with the non-finite dy: the transposed forward where the geometry takes it.
      const dx2 = conv2dBackpropInput(dy, fFinite, xShape, { pad });
      expectClose(dx2.data, tfjsCpu('Conv2DBackpropInput', { dy: [dyv, outShape], filter: [[...fFinite.data], fShape] },
        { ...attrs, inputShape: xShape }), 'float32', tolerance(288));
      disposeAll(x, f, dy, y, dx, dw, fFinite, dyFinite, y2, y2Ref, dw2, dw2Ref, dx2);
    }
  });
});

describe('depthwiseConv2d', () => {
  // Activations computed exactly alike on both sides; elu and sigmoid go through exp (libm vs
  // V8) and leakyrelu's slope is a double in tfjs and a float here.
  const EXACT = new Set<string>(['linear', 'relu', 'relu6', 'prelu']);

  it('random geometries and channel multipliers: bit for bit tfjs-backend-cpu, close to the reference', () => {
    const rand = rng(1111);
    for (let trial = 0; trial < 70; trial++) {
      const c = randomCase(rand, true);
      const activation = ACTIVATIONS[trial % ACTIVATIONS.length];
      const fused = trial % 2 === 1;
      const [, oh, ow, oc] = c.outShape;
      const biasShape = pick(rand, [[oc], [1], [ow, oc], c.outShape]);
      const alphaShape = pick(rand, [[oc], [oh, ow, 1], [1]]);
      const xv = randomValues(rand, size(c.xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(c.filterShape), 'float32', -1, 1);
      const bv = randomValues(rand, size(biasShape), 'float32', -1, 1);
      const av = randomValues(rand, size(alphaShape), 'float32', -1, 1);
      const x = array(xv, c.xShape);
      const f = array(fv, c.filterShape);
      const bias = fused ? array(bv, biasShape) : undefined;
      const alpha = fused && activation === 'prelu' ? array(av, alphaShape) : undefined;
      const options: FusedConvOptions = fused ? { ...c.options, bias, activation, preluActivationWeights: alpha } : c.options;
      const out = depthwiseConv2d(x, f, options);
      const ref = depthwiseConv2dRef(x, f, options);
      expect(out.shape).toEqual(c.outShape);
      expectClose(out.data, ref.data, 'float32', tolerance(c.filterShape[0] * c.filterShape[1]));
      const expected = fused
        ? tfjsCpu('FusedDepthwiseConv2D', { x: [xv, c.xShape], filter: [fv, c.filterShape], bias: [bv, biasShape],
          preluActivationWeights: alpha && [av, alphaShape] }, { ...tfAttrs(c.options), activation, leakyreluAlpha: 0.2 })
        : tfjsCpu('DepthwiseConv2dNative', { x: [xv, c.xShape], filter: [fv, c.filterShape] }, tfAttrs(c.options));
      expectClose(out.data, expected, 'float32', !fused || EXACT.has(activation) ? { abs: 0, rel: 0 } : { abs: 0, rel: 1e-6 });
      disposeAll(x, f, bias, alpha, out, ref);
    }
  });

  it('gradients: bit for bit tfjs-backend-cpu, close to the reference', () => {
    const rand = rng(1212);
    for (let trial = 0; trial < 60; trial++) {
      const c = randomCase(rand, true);
      c.options.dilations = 1;
      const outShape = outShapeOf(c.xShape, c.filterShape, c.options, true);
      if (outShape === undefined) continue;
      c.outShape = outShape;
      const xv = randomValues(rand, size(c.xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(c.filterShape), 'float32', -1, 1);
      const dyv = randomValues(rand, size(c.outShape), 'float32', -1, 1);
      const x = array(xv, c.xShape);
      const f = array(fv, c.filterShape);
      const dy = array(dyv, c.outShape);
      const attrs = tfAttrs(c.options);
      const dx = depthwiseConv2dBackpropInput(dy, f, c.xShape, c.options);
      const dxRef = depthwiseConv2dBackpropInputRef(dy, f, c.xShape, c.options);
      expectClose(dx.data, dxRef.data, 'float32', tolerance(size(c.filterShape)));
      expectClose(dx.data, tfjsCpu('DepthwiseConv2dNativeBackpropInput', { dy: [dyv, c.outShape], filter: [fv, c.filterShape] },
        { ...attrs, inputShape: c.xShape }), 'float32', { abs: 0, rel: 0 });
      const dw = depthwiseConv2dBackpropFilter(x, dy, c.filterShape, c.options);
      const dwRef = depthwiseConv2dBackpropFilterRef(x, dy, c.filterShape, c.options);
      expectClose(dw.data, dwRef.data, 'float32', tolerance(size(c.outShape)));
      expectClose(dw.data, tfjsCpu('DepthwiseConv2dNativeBackpropFilter', { x: [xv, c.xShape], dy: [dyv, c.outShape] },
        { ...attrs, filterShape: c.filterShape }), 'float32', { abs: 0, rel: 0 });
      disposeAll(x, f, dy, dx, dxRef, dw, dwRef);
    }
  });

  it('dilated depthwise gradients agree with the reference', () => {
    const rand = rng(1313);
    for (let trial = 0; trial < 20; trial++) {
      const c = randomCase(rand, true, true);
      const x = array(randomValues(rand, size(c.xShape), 'float32', -1, 1), c.xShape);
      const f = array(randomValues(rand, size(c.filterShape), 'float32', -1, 1), c.filterShape);
      const dy = array(randomValues(rand, size(c.outShape), 'float32', -1, 1), c.outShape);
      const dx = depthwiseConv2dBackpropInput(dy, f, c.xShape, c.options);
      const dxRef = depthwiseConv2dBackpropInputRef(dy, f, c.xShape, c.options);
      expectClose(dx.data, dxRef.data, 'float32', tolerance(size(c.filterShape)));
      const dw = depthwiseConv2dBackpropFilter(x, dy, c.filterShape, c.options);
      const dwRef = depthwiseConv2dBackpropFilterRef(x, dy, c.filterShape, c.options);
      expectClose(dw.data, dwRef.data, 'float32', tolerance(size(c.outShape)));
      disposeAll(x, f, dy, dx, dxRef, dw, dwRef);
    }
  });

  it('wide layers (whole channel blocks, pixel blocks, border columns): bit for bit tfjs-backend-cpu', () => {
    const rand = rng(1515);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 16; trial++) {
      const xShape = [int(1, 2), int(4, 14), int(4, 14), pick(rand, [16, 32, 37, 64])];
      const fShape = [int(1, 5), int(1, 5), xShape[3], trial % 4 === 3 ? 2 : 1];
      const options: ConvOptions = { strides: int(1, 3), pad: pick(rand, ['same', 'valid', 1] as ConvPadding[]) };
      const outShape = outShapeOf(xShape, fShape, options, true);
      if (outShape === undefined) continue;
      const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
      const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
      const dyv = randomValues(rand, size(outShape), 'float32', -1, 1);
      const x = array(xv, xShape);
      const f = array(fv, fShape);
      const dy = array(dyv, outShape);
      const attrs = tfAttrs(options);
      const exact = { abs: 0, rel: 0 };
      const y = depthwiseConv2d(x, f, options);
      expectClose(y.data, tfjsCpu('DepthwiseConv2dNative', { x: [xv, xShape], filter: [fv, fShape] }, attrs), 'float32', exact);
      const dx = depthwiseConv2dBackpropInput(dy, f, xShape, options);
      expectClose(dx.data, tfjsCpu('DepthwiseConv2dNativeBackpropInput', { dy: [dyv, outShape], filter: [fv, fShape] },
        { ...attrs, inputShape: xShape }), 'float32', exact);
      const dw = depthwiseConv2dBackpropFilter(x, dy, fShape, options);
      expectClose(dw.data, tfjsCpu('DepthwiseConv2dNativeBackpropFilter', { x: [xv, xShape], dy: [dyv, outShape] },
        { ...attrs, filterShape: fShape }), 'float32', exact);
      disposeAll(x, f, dy, y, dx, dw);
    }
  });

  it('a large layer (threads) with NaN and Inf: bit for bit tfjs-backend-cpu', () => {
    const rand = rng(1414);
    const xShape = [2, 28, 28, 48];
    const fShape = [3, 3, 48, 2];
    const xv = randomValues(rand, size(xShape), 'float32', -1, 1);
    const fv = randomValues(rand, size(fShape), 'float32', -1, 1);
    xv[100] = NaN;
    xv[5000] = Infinity;
    fv[7] = -Infinity;
    const x = array(xv, xShape);
    const f = array(fv, fShape);
    for (const strides of [1, 2]) {
      const options: ConvOptions = { pad: 'same', strides };
      const outShape = resolveConv2D('test', xShape, fShape, options, true).outShape;
      const out = depthwiseConv2d(x, f, options);
      expectClose(out.data, tfjsCpu('DepthwiseConv2dNative', { x: [xv, xShape], filter: [fv, fShape] }, tfAttrs(options)), 'float32', { abs: 0, rel: 0 });
      const dyv = randomValues(rand, size(outShape), 'float32', -1, 1);
      const dy = array(dyv, outShape);
      const dx = depthwiseConv2dBackpropInput(dy, f, xShape, options);
      expectClose(dx.data, tfjsCpu('DepthwiseConv2dNativeBackpropInput', { dy: [dyv, outShape], filter: [fv, fShape] },
        { ...tfAttrs(options), inputShape: xShape }), 'float32', { abs: 0, rel: 0 });
      const dw = depthwiseConv2dBackpropFilter(x, dy, fShape, options);
      expectClose(dw.data, tfjsCpu('DepthwiseConv2dNativeBackpropFilter', { x: [xv, xShape], dy: [dyv, outShape] },
        { ...tfAttrs(options), filterShape: fShape }), 'float32', { abs: 0, rel: 0 });
      disposeAll(out, dy, dx, dw);
    }
    disposeAll(x, f);
  });

  it('empty batch and bad arguments', () => {
    const x0 = array([], [0, 5, 5, 3]);
    const f = array(randomValues(rng(15), 3 * 3 * 3 * 2, 'float32'), [3, 3, 3, 2]);
    const out = depthwiseConv2d(x0, f, { pad: 'same' });
    expect(out.shape).toEqual([0, 5, 5, 6]);
    const x = array(randomValues(rng(16), 5 * 5 * 4, 'float32'), [1, 5, 5, 4]);
    expect(() => depthwiseConv2d(x, f)).toThrow('depthwiseConv2d: expected filter.shape[2] equal to the input channels (4) but got filter shape [3,3,3,2]');
    expect(() => depthwiseConv2dBackpropFilter(x, x, [3, 3, 4, 1], { pad: 'same', strides: 2 })).toThrow(
      'depthwiseConv2dBackpropFilter: expected shape [1,3,3,4] (the convolution\'s output) for dy but got [1,5,5,4]');
    disposeAll(x0, f, out, x);
  });
});

describe('through the tfjs backend', () => {
  function onBackend<T>(backend: string, fn: () => T): T {
    tf.setBackend(backend);
    return fn();
  }

  function compareBackends(fn: () => tf.Tensor | tf.Tensor[], tol: { abs: number; rel: number }): void {
    const got = onBackend('tessera-cpu', () => tf.tidy(() => [fn()].flat().map((t) => t.dataSync())));
    const want = onBackend('cpu', () => tf.tidy(() => [fn()].flat().map((t) => t.dataSync())));
    expect(got.length).toBe(want.length);
    for (let i = 0; i < got.length; i++) expectClose(got[i], want[i], 'float32', tol);
  }

  const rand = rng(1515);
  const xv = randomValues(rand, 2 * 9 * 8 * 5, 'float32', -1, 1);
  const fv = randomValues(rand, 3 * 3 * 5 * 6, 'float32', -1, 1);
  const dwv = randomValues(rand, 3 * 3 * 5 * 2, 'float32', -1, 1);
  const bv = randomValues(rand, 6, 'float32', -1, 1);
  const x = () => tf.tensor4d(xv, [2, 9, 8, 5]);
  const filter = () => tf.tensor4d(fv, [3, 3, 5, 6]);
  const dwFilter = () => tf.tensor4d(dwv, [3, 3, 5, 2]);

  it('conv2d, fused conv2d and depthwise conv2d match tfjs-backend-cpu', () => {
    for (const pad of ['same', 'valid', 1, [[0, 0], [1, 2], [0, 1], [0, 0]]] as const) {
      compareBackends(() => tf.conv2d(x(), filter(), 2, pad as never), tolerance(45));
      compareBackends(() => tf.fused.conv2d({ x: x(), filter: filter(), strides: 1, pad: pad as never, bias: tf.tensor1d(bv), activation: 'relu' }), tolerance(45));
      compareBackends(() => tf.depthwiseConv2d(x(), dwFilter(), 1, pad as never, 'NHWC', 2), { abs: 0, rel: 0 });
      compareBackends(() => tf.fused.depthwiseConv2d({ x: x(), filter: dwFilter(), strides: 2, pad: pad as never, bias: tf.scalar(0.5), activation: 'relu6' }), { abs: 0, rel: 0 });
    }
  });

  it('channelsFirst (NCHW) falls back and still matches', () => {
    compareBackends(() => tf.conv2d(tf.transpose(x(), [0, 3, 1, 2]) as tf.Tensor4D, filter(), 1, 'same', 'NCHW'), tolerance(45));
  });

  it('gradients of conv2d, fused conv2d and depthwise conv2d match tfjs-backend-cpu', () => {
    const dyv = randomValues(rand, 2 * 9 * 8 * 6, 'float32', -1, 1);
    const dyDw = randomValues(rand, 2 * 9 * 8 * 10, 'float32', -1, 1);
    compareBackends(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))([x(), filter()], tf.tensor4d(dyv, [2, 9, 8, 6])), tolerance(200));
    compareBackends(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 1, pad: 'same', bias: tf.tensor1d(bv), activation: 'relu' }))([x(), filter()], tf.tensor4d(dyv, [2, 9, 8, 6])), tolerance(200));
    compareBackends(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))([x(), dwFilter()], tf.tensor4d(dyDw, [2, 9, 8, 10])), { abs: 0, rel: 0 });
  });

  it('attrs tfjs-backend-cpu treats specially go to it: its errors, its results', () => {
    tf.setBackend('tessera-cpu');
    expect(() => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNative', { x: x(), filter: dwFilter() },
      { strides: 2, dilations: 2, pad: 'same' } as never))).toThrow('Error in depthwiseConv2d: Either strides or dilations must be 1');
    // Its depthwise input gradient sizes dy for the dilated filter but ignores dilations in its loops.
    const dyv = randomValues(rand, 2 * 5 * 4 * 10, 'float32', -1, 1);
    compareBackends(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor4d(dyv, [2, 5, 4, 10]), filter: dwFilter() },
      { strides: 1, dilations: 2, pad: 'valid', inputShape: [2, 9, 8, 5] } as never) as tf.Tensor, { abs: 0, rel: 0 });
  });

  it('runs the native kernels: results equal the direct API bit for bit', () => {
    const xs = array(xv, [2, 9, 8, 5]);
    const fs = array(fv, [3, 3, 5, 6]);
    const direct = conv2d(xs, fs, { pad: 'same' });
    const viaTf = onBackend('tessera-cpu', () => tf.tidy(() => tf.conv2d(x(), filter(), 1, 'same').dataSync()));
    expect([...viaTf]).toEqual([...direct.data]);
    disposeAll(xs, fs, direct);
  });

  it('leaves no tensors behind', () => {
    tf.setBackend('tessera-cpu');
    const before = tf.memory().numTensors;
    tf.tidy(() => tf.fused.conv2d({ x: x(), filter: filter(), pad: 'same', strides: 1, bias: tf.tensor1d(bv), activation: 'prelu', preluActivationWeights: tf.tensor1d(bv) }).dataSync());
    expect(tf.memory().numTensors).toBe(before);
  });
});
