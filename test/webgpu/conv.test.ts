// tessera-webgpu convolutions against tessera-cpu: Conv2D and FusedConv2D (implicit GEMM,
// and the 1x1 / whole-input products), Conv2DBackpropInput and Conv2DBackpropFilter (also
// through tf.grad, as training runs them), DepthwiseConv2dNative and FusedDepthwiseConv2D;
// strides, dilations, padding modes, every activation, empty dims, the NCHW fallback, GPU
// residency of the results and buffer leaks.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { expectClose, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, webgpuBackend } from './setup.js';

type Tol = { abs?: number; rel?: number; gpu?: boolean };
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Pair = number | [number, number];

const TOL: Tol = { abs: 1e-4, rel: 1e-4 };

/** Runs `make` on tessera-cpu and tessera-webgpu and compares; the GPU result must be resident on the GPU. */
async function compare(make: () => tf.Tensor, tol: Tol = TOL, label = ''): Promise<void> {
  const want = await onCpu(() => tf.tidy(make));
  const backend = webgpuBackend();
  const got = tf.tidy(make);
  try {
    expect(got.shape).toEqual(want.shape);
    if (got.size > 0 && tol.gpu !== false) expect(backend.isOnGpu(got), 'ran on the GPU').toBe(true);
    expectClose(got.dataSync(), want.values as ArrayLike<number>, 'float32', tol);
  } catch (e) {
    (e as Error).message = `${label}: ${(e as Error).message}`;
    throw e;
  } finally {
    got.dispose();
  }
}

function values(rand: () => number, shape: number[], lo = -1, hi = 1): Float32Array {
  return Float32Array.from(randomValues(rand, shape.reduce((p, d) => p * d, 1), 'float32', lo, hi));
}

const t4 = (v: Float32Array, shape: number[]) => tf.tensor4d(v, shape as [number, number, number, number]);

interface Geometry {
  x: number[];
  /** [fh, fw, inC, outC] */
  f: number[];
  strides: Pair;
  pad: Pad;
  dilations: Pair;
}

// Strides, dilations, padding modes, sizes off the 64-wide tiles, 1x1 and whole-input filters.
// (Conv2DBackpropInput with strides runs one GEMM per stride phase: covered by the strided ones.)
const GEOMETRIES: Geometry[] = [
  { x: [2, 9, 10, 3], f: [3, 3, 3, 5], strides: 1, pad: 'same', dilations: 1 },
  { x: [2, 9, 10, 3], f: [3, 3, 3, 5], strides: 2, pad: 'valid', dilations: 1 },
  { x: [1, 17, 13, 7], f: [5, 3, 7, 70], strides: [2, 3], pad: 'same', dilations: 1 },
  { x: [1, 17, 13, 7], f: [3, 3, 7, 9], strides: 1, pad: 'valid', dilations: [2, 3] },
  { x: [2, 11, 9, 4], f: [3, 2, 4, 6], strides: 1, pad: 'same', dilations: 2 },
  { x: [3, 8, 8, 4], f: [2, 2, 4, 6], strides: 1, pad: [[0, 0], [1, 2], [2, 1], [0, 0]], dilations: 1 },
  { x: [2, 7, 7, 5], f: [3, 3, 5, 4], strides: 2, pad: 1, dilations: 1 },
  { x: [2, 6, 6, 16], f: [1, 1, 16, 33], strides: 1, pad: 'same', dilations: 1 },
  { x: [2, 6, 6, 16], f: [1, 1, 16, 33], strides: 2, pad: 'valid', dilations: 1 },
  { x: [2, 5, 5, 3], f: [5, 5, 3, 4], strides: 1, pad: 'valid', dilations: 1 },
  { x: [1, 30, 30, 20], f: [3, 3, 20, 40], strides: 2, pad: 'same', dilations: 1 },
  { x: [4, 16, 16, 8], f: [3, 3, 8, 70], strides: 1, pad: 'same', dilations: 1 },
  // Strides past the filter and the input: stride phases without taps or without pixels.
  { x: [2, 2, 7, 3], f: [2, 2, 3, 4], strides: 3, pad: 'same', dilations: 1 },
  { x: [1, 9, 8, 2], f: [3, 2, 2, 3], strides: [3, 2], pad: [[0, 0], [2, 0], [0, 1], [0, 0]], dilations: 1 },
];

const label = (g: Geometry) => `x ${g.x} filter ${g.f} strides ${g.strides} pad ${JSON.stringify(g.pad)} dilations ${g.dilations}`;

/** The output shape of a geometry (tessera-cpu's forward conv). */
function outShapeOf(g: Geometry, xv: Float32Array, fv: Float32Array): Promise<number[]> {
  return onCpu(() => tf.conv2d(t4(xv, g.x), t4(fv, g.f), g.strides, g.pad as 'same', 'NHWC', g.dilations)).then((r) => r.shape);
}

describeWebGpu('tessera-webgpu conv2d', () => {
  let liveBefore = 0;
  beforeEach(() => {
    liveBefore = webgpuBackend().device.stats().liveBuffers;
  });
  afterEach(() => {
    expect(webgpuBackend().device.stats().liveBuffers, 'live GPU buffers after the test').toBe(liveBefore);
  });

  it('Conv2D matches tessera-cpu over strides, dilations and padding modes', async () => {
    const rand = rng(2101);
    for (const g of GEOMETRIES) {
      const xv = values(rand, g.x);
      const fv = values(rand, g.f);
      await compare(() => tf.conv2d(t4(xv, g.x), t4(fv, g.f), g.strides, g.pad as 'same', 'NHWC', g.dilations), TOL, label(g));
    }
  });

  it('FusedConv2D: every activation, bias and prelu weights of several shapes', async () => {
    const rand = rng(2102);
    const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    const picks = [GEOMETRIES[0], GEOMETRIES[2], GEOMETRIES[7], GEOMETRIES[9]];
    for (const [i, activation] of activations.entries()) {
      const g = picks[i % picks.length];
      const xv = values(rand, g.x, -2, 2);
      const fv = values(rand, g.f);
      const outShape = await outShapeOf(g, xv, fv);
      const outC = g.f[3];
      const biasShapes = [[outC], [1], outShape.slice(1), [outShape[1], 1, outC]];
      const biasShape = biasShapes[i % biasShapes.length];
      const biasV = values(rand, biasShape);
      const alphaShape = i % 2 === 0 ? [outC] : outShape.slice(1);
      const alphaV = values(rand, alphaShape, 0, 0.5);
      await compare(() => tf.fused.conv2d({
        x: t4(xv, g.x), filter: t4(fv, g.f), strides: g.strides, pad: g.pad as 'same', dilations: g.dilations,
        bias: tf.tensor(biasV, biasShape), activation,
        preluActivationWeights: activation === 'prelu' ? tf.tensor(alphaV, alphaShape) : undefined, leakyreluAlpha: 0.25,
      }), TOL, `${activation} bias ${biasShape} ${label(g)}`);
    }
    // No bias, activation only.
    const g = GEOMETRIES[1];
    const xv = values(rand, g.x);
    const fv = values(rand, g.f);
    await compare(() => tf.fused.conv2d({ x: t4(xv, g.x), filter: t4(fv, g.f), strides: g.strides, pad: g.pad as 'same', activation: 'relu' }));
  });

  it('Conv2DBackpropInput and Conv2DBackpropFilter match tessera-cpu', async () => {
    const rand = rng(2103);
    for (const g of GEOMETRIES) {
      // tfjs computes the gradients with dilations 1.
      if (g.dilations !== 1) continue;
      const xv = values(rand, g.x);
      const fv = values(rand, g.f);
      const yShape = await outShapeOf(g, xv, fv);
      const dyv = values(rand, yShape);
      await compare(() => tf.conv2dTranspose(t4(dyv, yShape), t4(fv, g.f), g.x as [number, number, number, number], g.strides, g.pad as 'same'),
        TOL, `backprop input ${label(g)}`);
      await compare(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t4(xv, g.x), dy: t4(dyv, yShape) },
        { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', filterShape: g.f }) as tf.Tensor, { abs: 1e-4 * Math.sqrt(yShape[0] * yShape[1] * yShape[2]), rel: 1e-4 },
        `backprop filter ${label(g)}`);
    }
  });

  it('gradients through conv2d and fused conv2d (training) run on the GPU', async () => {
    const rand = rng(2104);
    const g = GEOMETRIES[0];
    const xv = values(rand, g.x);
    const fv = values(rand, g.f);
    const yShape = await outShapeOf(g, xv, fv);
    const dyv = values(rand, yShape);
    const biasV = values(rand, [g.f[3]]);
    for (const which of [0, 1]) {
      await compare(() => tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'))([t4(xv, g.x), t4(fv, g.f)], t4(dyv, yShape))[which],
        TOL, `conv2d gradient ${which}`);
      await compare(() => tf.grads((x: tf.Tensor, f: tf.Tensor) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: tf.tensor1d(biasV), activation: 'relu' }))(
        [t4(xv, g.x), t4(fv, g.f)], t4(dyv, yShape))[which], TOL, `fused conv2d gradient ${which}`);
    }
  });

  it('long reductions split K (backprop filter over a large batch)', async () => {
    const rand = rng(2105);
    const x = [8, 32, 32, 4];
    const f = [3, 3, 4, 8];
    const xv = values(rand, x);
    const dyv = values(rand, [8, 32, 32, 8]);
    const backend = webgpuBackend();
    const before = backend.device.stats().dispatches;
    await compare(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t4(xv, x), dy: t4(dyv, [8, 32, 32, 8]) },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: f }) as tf.Tensor, { abs: 1e-3, rel: 1e-4 });
    // Partial sums, then their reduction.
    expect(backend.device.stats().dispatches - before).toBe(2);
  });

  it('DepthwiseConv2dNative and FusedDepthwiseConv2D match tessera-cpu', async () => {
    const rand = rng(2106);
    const cases: Array<{ x: number[]; f: number[]; strides: Pair; pad: Pad; dilations: Pair }> = [
      { x: [2, 9, 10, 3], f: [3, 3, 3, 1], strides: 1, pad: 'same', dilations: 1 },
      { x: [2, 9, 10, 3], f: [3, 3, 3, 2], strides: 2, pad: 'valid', dilations: 1 },
      { x: [1, 17, 13, 7], f: [5, 3, 7, 3], strides: [2, 3], pad: 'same', dilations: 1 },
      { x: [1, 17, 13, 7], f: [3, 3, 7, 1], strides: 1, pad: 'valid', dilations: [2, 3] },
      { x: [3, 8, 8, 4], f: [2, 2, 4, 2], strides: 1, pad: [[0, 0], [1, 2], [2, 1], [0, 0]], dilations: 1 },
      { x: [1, 40, 40, 32], f: [3, 3, 32, 1], strides: 1, pad: 'same', dilations: 1 },
    ];
    const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    for (const [i, c] of cases.entries()) {
      const xv = values(rand, c.x);
      const fv = values(rand, c.f);
      const tag = `depthwise x ${c.x} filter ${c.f} strides ${c.strides} pad ${JSON.stringify(c.pad)} dilations ${c.dilations}`;
      await compare(() => tf.depthwiseConv2d(t4(xv, c.x), t4(fv, c.f), c.strides, c.pad as 'same', 'NHWC', c.dilations), { abs: 1e-5, rel: 1e-5 }, tag);
      const outC = c.f[2] * c.f[3];
      const biasV = values(rand, [outC]);
      const alphaV = values(rand, [outC], 0, 0.5);
      const activation = activations[i % activations.length];
      await compare(() => tf.fused.depthwiseConv2d({
        x: t4(xv, c.x), filter: t4(fv, c.f), strides: c.strides, pad: c.pad as 'same', dilations: c.dilations, bias: tf.tensor1d(biasV), activation,
        preluActivationWeights: activation === 'prelu' ? tf.tensor1d(alphaV) : undefined, leakyreluAlpha: 0.1,
      }), { abs: 1e-5, rel: 1e-5 }, `fused ${activation} ${tag}`);
    }
    // The last activation too.
    const c = cases[0];
    const xv = values(rand, c.x);
    const fv = values(rand, c.f);
    const alphaV = values(rand, [3], 0, 0.5);
    await compare(() => tf.fused.depthwiseConv2d({ x: t4(xv, c.x), filter: t4(fv, c.f), strides: 1, pad: 'same', activation: 'prelu', preluActivationWeights: tf.tensor1d(alphaV) }),
      { abs: 1e-5, rel: 1e-5 });
  });

  it('empty batches and channels give empty results', async () => {
    await compare(() => tf.conv2d(tf.zeros([0, 5, 5, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same'));
    await compare(() => tf.conv2d(tf.ones([2, 5, 5, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 0]) as tf.Tensor4D, 1, 'same'));
    await compare(() => tf.depthwiseConv2d(tf.zeros([0, 5, 5, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 1]) as tf.Tensor4D, 1, 'same'));
  });

  it('infinities and NaN in the input propagate as in tessera-cpu', async () => {
    const x = Float32Array.from({ length: 2 * 5 * 5 * 2 }, (_, i) => (i % 7) - 3);
    x[7] = NaN;
    x[30] = Infinity;
    const f = Float32Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => (i % 5) - 2.5);
    await compare(() => tf.conv2d(t4(x, [2, 5, 5, 2]), t4(f, [3, 3, 2, 3]), 1, 'same'));
    await compare(() => tf.depthwiseConv2d(t4(x, [2, 5, 5, 2]), t4(f.slice(0, 18), [3, 3, 2, 1]), 1, 'valid'));
  });

  it('NCHW runs on tessera-cpu (the fallback), with the same result', async () => {
    const backend = webgpuBackend();
    const rand = rng(2107);
    const xv = values(rand, [2, 3, 6, 6]);
    const fv = values(rand, [3, 3, 3, 4]);
    await compare(() => tf.conv2d(t4(xv, [2, 3, 6, 6]), t4(fv, [3, 3, 3, 4]), 1, 'same', 'NCHW'), { ...TOL, gpu: false });
    const y = tf.conv2d(t4(xv, [2, 3, 6, 6]), t4(fv, [3, 3, 3, 4]), 1, 'same', 'NCHW');
    expect(backend.isOnGpu(y)).toBe(false);
    y.dispose();
  });

  it('reuses pipelines across shapes and geometries', async () => {
    const backend = webgpuBackend();
    const run = (x: [number, number, number, number], f: [number, number, number, number], strides: number, pad: 'same' | 'valid', dilations: number) =>
      tf.tidy(() => tf.conv2d(tf.ones(x) as tf.Tensor4D, tf.ones(f) as tf.Tensor4D, strides, pad, 'NHWC', dilations).dataSync());
    run([1, 8, 8, 3], [3, 3, 3, 4], 1, 'same', 1);
    const pipelines = backend.device.stats().pipelines;
    run([2, 13, 9, 5], [5, 3, 5, 7], 2, 'valid', 1);
    run([1, 20, 20, 2], [3, 3, 2, 70], 1, 'same', 2);
    expect(backend.device.stats().pipelines).toBe(pipelines);
  });
});
