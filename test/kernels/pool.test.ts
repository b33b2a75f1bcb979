import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradients; tfjs-layers registers tfjs-core's own.
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it, vi } from 'vitest';

import '../../src/index.js';
import {
  array, avgPool, avgPoolGrad, avgPoolGradRef, avgPoolRef, batchNorm, batchNormRef, maxPool, maxPoolGrad, maxPoolGradRef,
  maxPoolRef, resizeBilinear, resizeBilinearGrad, resizeBilinearGradRef, resizeBilinearRef, resizeNearestNeighbor,
  resizeNearestNeighborGrad, resizeNearestNeighborGradRef, resizeNearestNeighborRef, resolvePool2D,
  type DimRoundingMode, type PoolPadding,
} from '../../src/kernels/index.js';
import type { DeviceArray, DType } from '../../src/kernels/array.js';
import { native } from '../../src/native.js';
import { checkLeaks, expectClose, randomValues, rng } from '../helpers.js';

checkLeaks();

afterEach(() => {
  vi.restoreAllMocks();
});

interface Host {
  values: ArrayLike<number>;
  shape: number[];
  dtype: DType;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const host = (values: ArrayLike<number>, shape: number[], dtype: DType = 'float32'): Host => ({ values, shape, dtype });

/** Runs a tfjs kernel on `backend` with fresh tensors and returns a copy of the result. */
function runKernel(backend: string, kernel: string, inputs: Record<string, Host | undefined>, attrs: object): { values: ArrayLike<number>; shape: number[] } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, h] of Object.entries(inputs)) if (h !== undefined) tensors[name] = tf.tensor(Array.from(h.values), h.shape, h.dtype);
    const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
    return { values: out.dataSync().slice(), shape: out.shape };
  });
}

/** Runs `body` with device arrays made from `hosts`, disposing them and whatever body returns for disposal. */
function withArrays<T>(hosts: Host[], body: (arrays: DeviceArray[], track: <A extends DeviceArray>(a: A) => A) => T): T {
  const arrays = hosts.map((h) => array(Array.from(h.values), h.shape, h.dtype));
  const tracked: DeviceArray[] = [];
  try {
    return body(arrays, (a) => {
      tracked.push(a);
      return a;
    });
  } finally {
    for (const a of [...arrays, ...tracked]) a.dispose();
  }
}

const exact = (actual: ArrayLike<number>, expected: ArrayLike<number>, dtype: DType = 'float32') =>
  expectClose(actual, expected, dtype, { abs: 0, rel: 0 });


// ---- random pooling geometries ----

interface PoolCase {
  xShape: number[];
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: PoolPadding;
  dimRoundingMode?: DimRoundingMode;
}

function randomPoolCase(rand: () => number, allowRounding = true): PoolCase {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pair = (lo: number, hi: number): number | [number, number] => (rand() < 0.3 ? int(lo, hi) : [int(lo, hi), int(lo, hi)]);
  const xShape = [int(1, 3), int(1, 9), int(1, 9), int(1, 9)];
  const filterSize = pair(1, 4);
  const strides = pair(1, 3);
  const kind = int(0, 3);
  let pad: PoolPadding;
  if (kind === 0) pad = 'same';
  else if (kind === 1) pad = 'valid';
  else if (kind === 2) pad = int(0, 2);
  else pad = [[0, 0], [int(0, 2), int(0, 2)], [int(0, 2), int(0, 2)], [0, 0]];
  const modes: (DimRoundingMode | undefined)[] = [undefined, 'floor', 'round', 'ceil'];
  const dimRoundingMode = allowRounding && typeof pad !== 'string' ? modes[int(0, 3)] : undefined;
  return { xShape, filterSize, strides, pad, dimRoundingMode };
}

function poolAttrs(c: PoolCase): object {
  return { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode };
}

describe('maxPool and avgPool', () => {
  for (const kind of ['max', 'avg'] as const) {
    const run = kind === 'max' ? maxPool : avgPool;
    const ref = kind === 'max' ? maxPoolRef : avgPoolRef;
    const kernel = kind === 'max' ? 'MaxPool' : 'AvgPool';
    for (const dtype of ['float32', 'int32'] as const) {
      it(`${kind} ${dtype}: random shapes, filters 1-4, strides 1-3, same/valid/number/explicit pads and rounding modes match the reference and tfjs-backend-cpu`, () => {
        const rand = rng(kind === 'max' ? 11 : 12);
        let checked = 0;
        for (let trial = 0; trial < 80; trial++) {
          const c = randomPoolCase(rand);
          const x = host(randomValues(rand, sizeOf(c.xShape), dtype), c.xShape, dtype);
          const geometry = resolvePool2D(c.xShape, c.filterSize, c.strides, c.pad, c.dimRoundingMode);
          withArrays([x], ([dx], track) => {
            if (geometry === undefined) {
              expect(() => run(dx, c.filterSize, c.strides, c.pad, c.dimRoundingMode)).toThrow(`${kind}Pool: expected filterSize, strides and pad`);
              return;
            }
            const out = track(run(dx, c.filterSize, c.strides, c.pad, c.dimRoundingMode));
            const expected = track(ref(dx, c.filterSize, c.strides, c.pad, c.dimRoundingMode));
            expect(out.shape).toEqual(geometry.outShape);
            exact(out.data, expected.data, dtype);
            const tfjs = runKernel('cpu', kernel, { x }, poolAttrs(c));
            expect(out.shape).toEqual(tfjs.shape);
            exact(out.data, tfjs.values, dtype);
            checked++;
          });
        }
        expect(checked).toBeGreaterThan(50);
      });
    }
  }

  it('windows hanging wholly over padding give -Infinity (max) and NaN (avg), as in tfjs', () => {
    // ceil rounding adds a last window that starts past the input; pad 3 > filter 2 adds windows inside the padding.
    for (const c of [
      { xShape: [1, 5, 5, 2], filterSize: 1, strides: 3, pad: 0, dimRoundingMode: 'ceil' },
      { xShape: [1, 3, 3, 1], filterSize: 2, strides: 1, pad: [[0, 0], [3, 0], [0, 3], [0, 0]] },
    ] as PoolCase[]) {
      const x = host(randomValues(rng(3), sizeOf(c.xShape), 'float32'), c.xShape);
      withArrays([x], ([dx], track) => {
        const mx = track(maxPool(dx, c.filterSize, c.strides, c.pad, c.dimRoundingMode));
        const av = track(avgPool(dx, c.filterSize, c.strides, c.pad, c.dimRoundingMode));
        expect([...mx.data]).toContain(-Infinity);
        expect([...av.data].some(Number.isNaN)).toBe(true);
        exact(mx.data, runKernel('cpu', 'MaxPool', { x }, poolAttrs(c)).values);
        exact(av.data, runKernel('cpu', 'AvgPool', { x }, poolAttrs(c)).values);
      });
    }
  });

  it('NaN never wins a max window (an all-NaN window gives -Infinity) but does propagate through avg, as in tfjs', () => {
    const values = [1, NaN, NaN, NaN, 4, NaN, NaN, NaN, -Infinity, 2, Infinity, 5, 7, NaN, 8, 0];
    const x = host(values, [1, 4, 4, 1]);
    const c: PoolCase = { xShape: [1, 4, 4, 1], filterSize: 2, strides: 2, pad: 'valid' };
    withArrays([x], ([dx], track) => {
      const mx = track(maxPool(dx, 2, 2, 'valid'));
      const av = track(avgPool(dx, 2, 2, 'valid'));
      exact(mx.data, [4, -Infinity, 7, Infinity]);
      exact(mx.data, runKernel('cpu', 'MaxPool', { x }, poolAttrs(c)).values);
      exact(av.data, runKernel('cpu', 'AvgPool', { x }, poolAttrs(c)).values);
      exact(track(maxPoolRef(dx, 2, 2, 'valid')).data, mx.data);
    });
  });

  it('a 1x1 filter keeping the shape returns x unchanged, NaN included; with stride 2 it pools and drops NaN', () => {
    const x = host([NaN, 1, -2, Infinity, 5, NaN, 7, 8, 9], [1, 3, 3, 1]);
    withArrays([x], ([dx], track) => {
      const same = track(maxPool(dx, 1, 1, 'same'));
      exact(same.data, x.values);
      expect(same.data).not.toBe(dx.data);
      exact(same.data, runKernel('cpu', 'MaxPool', { x }, { filterSize: 1, strides: 1, pad: 'same' }).values);
      const strided = track(maxPool(dx, 1, 2, 'valid'));
      exact(strided.data, [-Infinity, -2, 7, 9]);
      exact(strided.data, runKernel('cpu', 'MaxPool', { x }, { filterSize: 1, strides: 2, pad: 'valid' }).values);
    });
  });

  it('empty batches and channels give empty outputs of the pooled shape', () => {
    for (const shape of [[0, 4, 4, 3], [2, 4, 4, 0]]) {
      withArrays([host([], shape)], ([dx], track) => {
        const out = track(maxPool(dx, 2, 2, 'valid'));
        expect(out.shape).toEqual([shape[0], 2, 2, shape[3]]);
        expect(track(avgPool(dx, 3, 1, 'same')).shape).toEqual([shape[0], 4, 4, shape[3]]);
      });
    }
  });

  it('large inputs (8x56x56x64, split across threads) agree exactly with the reference and tfjs-backend-cpu', () => {
    const shape = [8, 56, 56, 64];
    const x = host(randomValues(rng(99), sizeOf(shape), 'float32', -100, 100), shape);
    withArrays([x], ([dx], track) => {
      for (const [filter, stride, pad] of [[3, 2, 'same'], [2, 2, 'valid'], [3, 1, 'same']] as [number, number, PoolPadding][]) {
        const mx = track(maxPool(dx, filter, stride, pad));
        exact(mx.data, track(maxPoolRef(dx, filter, stride, pad)).data);
        const av = track(avgPool(dx, filter, stride, pad));
        exact(av.data, track(avgPoolRef(dx, filter, stride, pad)).data);
      }
      exact(track(maxPool(dx, 3, 2, 'same')).data, runKernel('cpu', 'MaxPool', { x }, { filterSize: 3, strides: 2, pad: 'same' }).values);
    });
  });
});

describe('maxPoolGrad and avgPoolGrad', () => {
  it('maxPoolGrad: random geometries with ties and NaN pick the same first maximum as tfjs-backend-cpu', () => {
    const rand = rng(21);
    let checked = 0;
    for (let trial = 0; trial < 80; trial++) {
      const c = randomPoolCase(rand);
      const geometry = resolvePool2D(c.xShape, c.filterSize, c.strides, c.pad, c.dimRoundingMode);
      if (geometry === undefined) continue;
      // Few distinct values make ties common; NaN must never be selected.
      const xValues = randomValues(rand, sizeOf(c.xShape), 'int32', 0, 3).map((v) => (rand() < 0.05 ? NaN : v));
      const x = host(xValues, c.xShape);
      const dy = host(randomValues(rand, sizeOf(geometry.outShape), 'float32'), geometry.outShape);
      withArrays([dy, x], ([ddy, dx], track) => {
        const grad = track(maxPoolGrad(ddy, dx, c.filterSize, c.strides, c.pad, c.dimRoundingMode));
        expect(grad.shape).toEqual(c.xShape);
        exact(grad.data, track(maxPoolGradRef(ddy, dx, c.filterSize, c.strides, c.pad, c.dimRoundingMode)).data);
        const output = host(new Array(sizeOf(geometry.outShape)).fill(0), geometry.outShape);
        exact(grad.data, runKernel('cpu', 'MaxPoolGrad', { dy, input: x, output }, poolAttrs(c)).values);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('avgPoolGrad: random geometries match the reference and tfjs-backend-cpu (divisor: the full filter area)', () => {
    const rand = rng(22);
    let checked = 0;
    for (let trial = 0; trial < 80; trial++) {
      const c = randomPoolCase(rand, false);
      const geometry = resolvePool2D(c.xShape, c.filterSize, c.strides, c.pad);
      if (geometry === undefined) continue;
      const x = host(new Array(sizeOf(c.xShape)).fill(0), c.xShape);
      const dy = host(randomValues(rand, sizeOf(geometry.outShape), 'float32'), geometry.outShape);
      withArrays([dy, x], ([ddy, dx], track) => {
        const grad = track(avgPoolGrad(ddy, dx, c.filterSize, c.strides, c.pad));
        exact(grad.data, track(avgPoolGradRef(ddy, dx, c.filterSize, c.strides, c.pad)).data);
        exact(grad.data, runKernel('cpu', 'AvgPoolGrad', { dy, input: x }, { filterSize: c.filterSize, strides: c.strides, pad: c.pad }).values);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('dy NaN and Inf reach only the selected pixels', () => {
    const x = host([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    const dy = host([NaN, Infinity, -Infinity, 1], [1, 2, 2, 1]);
    withArrays([dy, x], ([ddy, dx], track) => {
      const grad = track(maxPoolGrad(ddy, dx, 2, 2, 'valid'));
      exact(grad.data, [0, 0, 0, 0, 0, NaN, 0, Infinity, 0, 0, 0, 0, 0, -Infinity, 0, 1]);
      exact(grad.data, runKernel('cpu', 'MaxPoolGrad', { dy, input: x, output: dy }, { filterSize: 2, strides: 2, pad: 'valid' }).values);
    });
  });

  it('large gradients (8x56x56x64) agree exactly with the references', () => {
    const shape = [8, 56, 56, 64];
    const rand = rng(23);
    const x = host(randomValues(rand, sizeOf(shape), 'int32', -20, 20), shape);
    const dy = host(randomValues(rand, 8 * 28 * 28 * 64, 'float32'), [8, 28, 28, 64]);
    withArrays([dy, x], ([ddy, dx], track) => {
      exact(track(maxPoolGrad(ddy, dx, 3, 2, 'same')).data, track(maxPoolGradRef(ddy, dx, 3, 2, 'same')).data);
      exact(track(avgPoolGrad(ddy, dx, 3, 2, 'same')).data, track(avgPoolGradRef(ddy, dx, 3, 2, 'same')).data);
    });
  });

  it('gradients through tf.grad on tessera-cpu equal those on tfjs-backend-cpu', () => {
    const rand = rng(24);
    for (let trial = 0; trial < 12; trial++) {
      const c = randomPoolCase(rand, false);
      const geometry = resolvePool2D(c.xShape, c.filterSize, c.strides, c.pad);
      if (geometry === undefined) continue;
      const x = randomValues(rand, sizeOf(c.xShape), 'int32', 0, 4);
      const dy = randomValues(rand, sizeOf(geometry.outShape), 'float32');
      for (const op of [tf.maxPool, tf.avgPool]) {
        const grads = ['cpu', 'tessera-cpu'].map((backend) => {
          tf.setBackend(backend);
          return tf.tidy(() => {
            const f = (t: tf.Tensor) => op(t as tf.Tensor4D, c.filterSize, c.strides, c.pad as 'same');
            return tf.grad(f)(tf.tensor(x, c.xShape), tf.tensor(dy, geometry.outShape)).dataSync().slice();
          });
        });
        exact(grads[1], grads[0]);
      }
    }
  });
});

describe('batchNorm', () => {
  function check(xShape: number[], paramShapes: (number[] | undefined)[], epsilon: number | undefined, rand: () => number): void {
    const x = host(randomValues(rand, sizeOf(xShape), 'float32'), xShape);
    const [mean, variance, offset, scale] = paramShapes.map((s, i) =>
      s === undefined ? undefined : host(randomValues(rand, sizeOf(s), 'float32', i === 1 ? 0 : -3, 3), s));
    const present = [x, mean!, variance!, ...(offset ? [offset] : []), ...(scale ? [scale] : [])];
    withArrays(present, (arrays, track) => {
      const [dx, dm, dv] = arrays;
      const doff = offset ? arrays[3] : undefined;
      const dscale = scale ? arrays[offset ? 4 : 3] : undefined;
      const out = track(batchNorm(dx, dm, dv, doff, dscale, epsilon));
      expect(out.shape).toEqual(xShape);
      exact(out.data, track(batchNormRef(dx, dm, dv, doff, dscale, epsilon)).data);
      const attrs = epsilon === undefined ? {} : { varianceEpsilon: epsilon };
      exact(out.data, runKernel('cpu', 'FusedBatchNorm', { x, mean, variance, offset, scale }, attrs).values);
    });
  }

  it('1-D parameters over the last axis, with and without offset and scale, match the reference and tfjs-backend-cpu', () => {
    const rand = rng(31);
    for (let trial = 0; trial < 40; trial++) {
      const rank = 1 + Math.floor(rand() * 4);
      const xShape = Array.from({ length: rank }, () => 1 + Math.floor(rand() * 6));
      const c = [xShape[rank - 1]];
      check(xShape, [c, c, rand() < 0.5 ? c : undefined, rand() < 0.5 ? c : undefined], rand() < 0.3 ? undefined : rand() * 0.1, rand);
    }
  });

  it('parameters of other lengths are read modulo their own length, as tfjs-backend-cpu does', () => {
    const rand = rng(32);
    for (const [xShape, lengths] of [
      [[2, 3, 4, 5], [1, 5, 1, 5]],
      [[2, 3, 4, 5], [3, 7, 2, 5]],
      [[10], [3, 4, 6, 1]],
      [[4, 6], [24, 24, 24, 24]],
      [[3, 5, 7], [6, 9, 11, 2]],
    ] as number[][][]) {
      check(xShape, lengths.map((n) => [n]), 0.001, rand);
    }
    // Parameters of x's full shape (tfjs's batchNorm2d/3d/4d with full-shape statistics).
    check([2, 3, 4], [[2, 3, 4], [2, 3, 4], [2, 3, 4], [2, 3, 4]], 0.01, rand);
  });

  it('NaN, Inf and negative variances come out as in tfjs', () => {
    const x = host([NaN, Infinity, -Infinity, 0, 1, 2], [6]);
    const mean = host([0, 1, Infinity], [3]);
    const variance = host([-1, 0, 4], [3]);
    const scale = host([2], [1]);
    withArrays([x, mean, variance, scale], ([dx, dm, dv, ds], track) => {
      const out = track(batchNorm(dx, dm, dv, undefined, ds, 0));
      exact(out.data, runKernel('cpu', 'FusedBatchNorm', { x, mean, variance, scale }, { varianceEpsilon: 0 }).values);
      expect(Number.isNaN(out.data[0])).toBe(true);
    });
  });

  it('empty x gives an empty result; large x agrees with the reference', () => {
    const rand = rng(33);
    check([0, 3], [[3], [3], [3], [3]], 0.001, rand);
    const shape = [8, 56, 56, 64];
    const x = host(randomValues(rand, sizeOf(shape), 'float32'), shape);
    const p = (lo: number) => host(randomValues(rand, 64, 'float32', lo, 3), [64]);
    withArrays([x, p(-3), p(0.1), p(-3), p(-3)], ([dx, dm, dv, doff, ds], track) => {
      exact(track(batchNorm(dx, dm, dv, doff, ds, 1e-3)).data, track(batchNormRef(dx, dm, dv, doff, ds, 1e-3)).data);
    });
  });
});

describe('resize', () => {
  const flags: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

  for (const kind of ['bilinear', 'nearest'] as const) {
    const run = kind === 'bilinear' ? resizeBilinear : resizeNearestNeighbor;
    const ref = kind === 'bilinear' ? resizeBilinearRef : resizeNearestNeighborRef;
    const kernel = kind === 'bilinear' ? 'ResizeBilinear' : 'ResizeNearestNeighbor';
    for (const dtype of ['float32', 'int32'] as const) {
      it(`${kind} ${dtype}: every alignCorners/halfPixelCenters combination, scaling up and down, matches the reference and tfjs-backend-cpu`, () => {
        const rand = rng(kind === 'bilinear' ? 41 : 42);
        for (let trial = 0; trial < 48; trial++) {
          const [alignCorners, halfPixelCenters] = flags[trial % 4];
          const shape = [1 + Math.floor(rand() * 2), 1 + Math.floor(rand() * 7), 1 + Math.floor(rand() * 7), 1 + Math.floor(rand() * 5)];
          // Thirds of the trials scale up, down, and to random sizes.
          const pick = (d: number) => (trial % 3 === 0 ? d * 2 + 1 : trial % 3 === 1 ? Math.max(1, Math.floor(d / 2)) : 1 + Math.floor(rand() * 12));
          const size: [number, number] = [pick(shape[1]), pick(shape[2])];
          const images = host(randomValues(rand, sizeOf(shape), dtype), shape, dtype);
          withArrays([images], ([di], track) => {
            if (kind === 'bilinear' && alignCorners && halfPixelCenters) {
              expect(() => run(di, size, alignCorners, halfPixelCenters)).toThrow('expected halfPixelCenters false when alignCorners is true');
              return;
            }
            const out = track(run(di, size, alignCorners, halfPixelCenters));
            expect(out.shape).toEqual([shape[0], size[0], size[1], shape[3]]);
            expect(out.dtype).toBe(kind === 'bilinear' ? 'float32' : dtype);
            exact(out.data, track(ref(di, size, alignCorners, halfPixelCenters)).data, out.dtype);
            exact(out.data, runKernel('cpu', kernel, { images }, { size, alignCorners, halfPixelCenters }).values, out.dtype);
          });
        }
      });
    }
  }

  it('nearest rounds like Math.round (halves up) with alignCorners and like Math.floor without', () => {
    // 3 -> 5 with alignCorners: sources 0, 0.5, 1, 1.5, 2 round to 0, 1, 1, 2, 2.
    const images = host([10, 20, 30], [1, 1, 3, 1]);
    withArrays([images], ([di], track) => {
      exact(track(resizeNearestNeighbor(di, [1, 5], true, false)).data, [10, 20, 20, 30, 30]);
      exact(track(resizeNearestNeighbor(di, [1, 5], false, false)).data, [10, 10, 20, 20, 30]);
      exact(track(resizeNearestNeighbor(di, [1, 5], false, true)).data, runKernel('cpu', 'ResizeNearestNeighbor', { images }, { size: [1, 5], alignCorners: false, halfPixelCenters: true }).values);
    });
  });

  it('nearest int32 values pass through float32 as in tfjs (an Int32Array store then wraps 2^31)', () => {
    const images = host([16777217, -16777217, 2147483647, -2147483648], [1, 2, 2, 1], 'int32');
    withArrays([images], ([di], track) => {
      const out = track(resizeNearestNeighbor(di, [2, 2]));
      exact(out.data, [16777216, -16777216, -2147483648, -2147483648], 'int32');
      exact(track(resizeNearestNeighborRef(di, [2, 2])).data, out.data, 'int32');
      const tfjs = runKernel('cpu', 'ResizeNearestNeighbor', { images }, { size: [2, 2], alignCorners: false, halfPixelCenters: false });
      exact(out.data.slice(0, 2), Array.from(tfjs.values).slice(0, 2), 'int32');
    });
  });

  it('NaN and Inf interpolate as in tfjs; empty sizes give empty outputs', () => {
    const images = host([NaN, 1, Infinity, -Infinity, 2, 3, 4, 5, 6], [1, 3, 3, 1]);
    withArrays([images], ([di], track) => {
      for (const [a, h] of flags.slice(0, 3)) {
        exact(track(resizeBilinear(di, [5, 4], a, h)).data, runKernel('cpu', 'ResizeBilinear', { images }, { size: [5, 4], alignCorners: a, halfPixelCenters: h }).values);
      }
      expect(track(resizeBilinear(di, [0, 4])).shape).toEqual([1, 0, 4, 1]);
      expect(track(resizeNearestNeighbor(di, [3, 0])).shape).toEqual([1, 3, 0, 1]);
    });
    withArrays([host([], [0, 3, 3, 2])], ([di], track) => {
      expect(track(resizeBilinear(di, [6, 6])).shape).toEqual([0, 6, 6, 2]);
    });
  });

  it('large images (8x56x56x64 to 112x112 and 23x31) agree exactly with the references', () => {
    const shape = [8, 56, 56, 64];
    const images = host(randomValues(rng(43), sizeOf(shape), 'float32'), shape);
    withArrays([images], ([di], track) => {
      for (const size of [[112, 112], [23, 31]] as [number, number][]) {
        exact(track(resizeBilinear(di, size, false, true)).data, track(resizeBilinearRef(di, size, false, true)).data);
        exact(track(resizeNearestNeighbor(di, size, true)).data, track(resizeNearestNeighborRef(di, size, true)).data);
      }
    });
  });
});

describe('resize gradients', () => {
  for (const kind of ['bilinear', 'nearest'] as const) {
    const run = kind === 'bilinear' ? resizeBilinearGrad : resizeNearestNeighborGrad;
    const ref = kind === 'bilinear' ? resizeBilinearGradRef : resizeNearestNeighborGradRef;
    const kernel = kind === 'bilinear' ? 'ResizeBilinearGrad' : 'ResizeNearestNeighborGrad';
    it(`${kind}: random shapes, scaling up and down, with and without alignCorners, match the reference and tfjs-backend-cpu`, () => {
      const rand = rng(kind === 'bilinear' ? 51 : 52);
      for (let trial = 0; trial < 40; trial++) {
        const alignCorners = trial % 2 === 1;
        const shape = [1 + Math.floor(rand() * 2), 1 + Math.floor(rand() * 7), 1 + Math.floor(rand() * 7), 1 + Math.floor(rand() * 5)];
        // alignCorners onto a single row or column never finishes in tfjs's nearest gradient; it has its own test.
        if (kind === 'nearest' && alignCorners && (shape[1] === 1 || shape[2] === 1)) continue;
        const pick = (d: number) => (trial % 3 === 0 ? d * 2 + 1 : trial % 3 === 1 ? Math.max(1, Math.floor(d / 2)) : 1 + Math.floor(rand() * 12));
        const dyShape = [shape[0], pick(shape[1]), pick(shape[2]), shape[3]];
        const images = host(new Array(sizeOf(shape)).fill(0), shape);
        const dy = host(randomValues(rand, sizeOf(dyShape), 'float32'), dyShape);
        withArrays([images, dy], ([di, ddy], track) => {
          const dx = track(run(di, ddy, alignCorners));
          expect(dx.shape).toEqual(shape);
          exact(dx.data, track(ref(di, ddy, alignCorners)).data);
          // tfjs-backend-cpu's nearest gradient is right for one image at a time (see
          // ResizeNearestNeighborGrad.ts), so it is asked image by image.
          const perImage = kind === 'nearest' ? shape[0] : 1;
          const imageSize = sizeOf(shape) / perImage, dyImageSize = sizeOf(dyShape) / perImage;
          for (let b = 0; b < perImage; b++) {
            const imagesB = host(new Array(imageSize).fill(0), [shape[0] / perImage, ...shape.slice(1)]);
            const dyB = host(Array.from(dy.values).slice(b * dyImageSize, (b + 1) * dyImageSize), [dyShape[0] / perImage, ...dyShape.slice(1)]);
            const expected = runKernel('cpu', kernel, { images: imagesB, dy: dyB }, { alignCorners, halfPixelCenters: false, size: dyShape.slice(1, 3) });
            exact(dx.data.slice(b * imageSize, (b + 1) * imageSize), expected.values);
          }
        });
      }
    });
  }

  it('nearest with alignCorners onto one pixel sends every dy value there', () => {
    const images = host([0], [1, 1, 1, 1]);
    const dy = host([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    withArrays([images, dy], ([di, ddy], track) => {
      exact(track(resizeNearestNeighborGrad(di, ddy, true)).data, [45]);
      exact(track(resizeNearestNeighborGradRef(di, ddy, true)).data, [45]);
    });
  });

  it('large gradients (dy 8x112x112x64 onto 56x56, and 8x23x31x64) agree exactly with the references', () => {
    const rand = rng(53);
    const images = host(new Array(8 * 56 * 56 * 64).fill(0), [8, 56, 56, 64]);
    withArrays([images], ([di], track) => {
      for (const dyShape of [[8, 112, 112, 64], [8, 23, 31, 64]]) {
        const ddy = track(array(randomValues(rand, sizeOf(dyShape), 'float32'), dyShape));
        for (const alignCorners of [false, true]) {
          exact(track(resizeBilinearGrad(di, ddy, alignCorners)).data, track(resizeBilinearGradRef(di, ddy, alignCorners)).data);
          exact(track(resizeNearestNeighborGrad(di, ddy, alignCorners)).data, track(resizeNearestNeighborGradRef(di, ddy, alignCorners)).data);
        }
      }
    });
  });

  it('tf.grad through resize on tessera-cpu equals tfjs-backend-cpu (square images, one for nearest: where tfjs-backend-cpu is right)', () => {
    const rand = rng(54);
    for (const [alignCorners, halfPixelCenters] of [[false, false], [true, false], [false, true]]) {
      for (const op of [tf.image.resizeBilinear, tf.image.resizeNearestNeighbor]) {
        const batch = op === tf.image.resizeBilinear ? 2 : 1;
        const x = randomValues(rand, batch * 5 * 5 * 3, 'float32');
        const dy = randomValues(rand, batch * 8 * 7 * 3, 'float32');
        const grads = ['cpu', 'tessera-cpu'].map((backend) => {
          tf.setBackend(backend);
          return tf.tidy(() => {
            const f = (t: tf.Tensor) => op(t as tf.Tensor4D, [8, 7], alignCorners, halfPixelCenters);
            return tf.grad(f)(tf.tensor(x, [batch, 5, 5, 3]), tf.tensor(dy, [batch, 8, 7, 3])).dataSync().slice();
          });
        });
        exact(grads[1], grads[0]);
      }
    }
  });

  it('the bilinear gradient of non-square images has the images\' shape (tfjs-backend-cpu swaps height and width)', () => {
    tf.setBackend('tessera-cpu');
    const dx = tf.tidy(() => {
      const g = tf.grad((t: tf.Tensor) => tf.image.resizeBilinear(t as tf.Tensor4D, [4, 6]));
      const out = g(tf.ones([1, 2, 3, 1]), tf.ones([1, 4, 6, 1]));
      return { shape: out.shape, values: out.dataSync().slice() };
    });
    expect(dx.shape).toEqual([1, 2, 3, 1]);
    const cpu = runKernel('cpu', 'ResizeBilinearGrad', { images: host([0, 0, 0, 0, 0, 0], [1, 2, 3, 1]), dy: host(new Array(24).fill(1), [1, 4, 6, 1]) }, { alignCorners: false });
    expect(cpu.shape).toEqual([1, 3, 2, 1]);
    exact(dx.values, cpu.values);
  });
});

describe('through the tessera-cpu backend', () => {
  it('tf ops run the native kernels and equal tfjs-backend-cpu', () => {
    const calls = {
      pool2d: vi.spyOn(native, 'pool2d'),
      batchNorm: vi.spyOn(native, 'batchNorm'),
      resizeBilinear: vi.spyOn(native, 'resizeBilinear'),
      resizeNearestNeighbor: vi.spyOn(native, 'resizeNearestNeighbor'),
    };
    const rand = rng(61);
    const x = randomValues(rand, 2 * 7 * 6 * 5, 'float32');
    const params = [randomValues(rand, 5, 'float32'), randomValues(rand, 5, 'float32', 0.1, 2), randomValues(rand, 5, 'float32'), randomValues(rand, 5, 'float32')];
    const results = ['cpu', 'tessera-cpu'].map((backend) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const t = tf.tensor4d(x, [2, 7, 6, 5]);
        const [m, v, o, s] = params.map((p) => tf.tensor1d(p));
        return [
          tf.maxPool(t, 3, 2, 'same'),
          tf.avgPool(t, [2, 3], 1, 'valid'),
          tf.maxPool(t, 2, 1, 1, 'ceil'),
          tf.batchNorm(t, m, v, o, s, 0.01),
          tf.image.resizeBilinear(t, [9, 4], false, true),
          tf.image.resizeNearestNeighbor(t, [3, 11], true),
        ].map((r) => r.dataSync().slice());
      });
    });
    results[0].forEach((expected, i) => exact(results[1][i], expected));
    expect(calls.pool2d).toHaveBeenCalledTimes(3);
    expect(calls.batchNorm).toHaveBeenCalledTimes(1);
    expect(calls.resizeBilinear).toHaveBeenCalledTimes(1);
    expect(calls.resizeNearestNeighbor).toHaveBeenCalledTimes(1);
  });

  it('bilinear with alignCorners and halfPixelCenters both set is left to tfjs-backend-cpu', () => {
    const spy = vi.spyOn(native, 'resizeBilinear');
    const images = host(randomValues(rng(62), 2 * 4 * 4 * 2, 'float32'), [2, 4, 4, 2]);
    const attrs = { size: [2, 3], alignCorners: true, halfPixelCenters: true };
    exact(runKernel('tessera-cpu', 'ResizeBilinear', { images }, attrs).values, runKernel('cpu', 'ResizeBilinear', { images }, attrs).values);
    expect(spy).not.toHaveBeenCalled();
  });

  it('the nearest gradient of a batch sums each image\'s own dy', () => {
    const images = host([0, 0, 0, 0, 0, 0, 0, 0], [2, 2, 2, 1]);
    const dy = host([1, 2, 3, 4, 10, 20, 30, 40], [2, 1, 4, 1]);
    const out = runKernel('tessera-cpu', 'ResizeNearestNeighborGrad', { images, dy }, { alignCorners: false });
    exact(out.values, [3, 7, 0, 0, 30, 70, 0, 0]);
  });

  it('the identity max pool shares the input tensor\'s data, as tfjs-backend-cpu does', () => {
    tf.setBackend('tessera-cpu');
    const spy = vi.spyOn(native, 'pool2d');
    tf.tidy(() => {
      const t = tf.tensor4d([NaN, 2, 3, 4], [1, 2, 2, 1]);
      const out = tf.maxPool(t, 1, 1, 'valid');
      exact(out.dataSync(), [NaN, 2, 3, 4]);
      expect(out.dataId).toBe(t.dataId);
    });
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('bad arguments', () => {
  it('give errors naming the op, the argument and what was expected', () => {
    withArrays([host([1, 2, 3, 4], [2, 2, 1]), host([1, 2, 3, 4], [1, 2, 2, 1]), host([1, 0, 1, 0], [1, 2, 2, 1], 'bool'), host([], [0])], ([rank3, x, b, empty0]) => {
      expect(() => maxPool(rank3, 2, 1, 'valid')).toThrow('maxPool: expected rank 4 for x but got shape [2,2,1]');
      expect(() => maxPool(x, 0, 1, 'valid')).toThrow('maxPool: expected a positive integer or a pair of them for filterSize but got number 0');
      expect(() => avgPool(x, 2, [1, 2, 3] as never, 'valid')).toThrow('avgPool: expected a positive integer or a pair of them for strides but got a plain array [1,2,3]');
      expect(() => maxPool(x, 2, 1, 'full' as never)).toThrow("maxPool: expected 'valid', 'same', a non-negative number or [[0, 0], [top, bottom], [left, right], [0, 0]] for pad but got string full");
      expect(() => maxPool(x, 2, 1, 'same', 'floor')).toThrow('maxPool: expected an integer or explicit pad with dimRoundingMode for pad but got string same');
      expect(() => maxPool(x, 4, 1, 'valid')).toThrow('maxPool: expected filterSize, strides and pad that give a whole, non-negative output size for x of shape [1,2,2,1]');
      expect(() => maxPool(b, 2, 1, 'valid')).toThrow('maxPool: expected dtype float32 or int32 for x but got bool');
      expect(() => maxPoolGrad(x, x, 2, 1, 'valid')).toThrow('maxPoolGrad: expected shape [1,1,1,1] (the pooling\'s output) for dy but got [1,2,2,1]');
      expect(() => batchNorm(x, empty0, x)).toThrow('batchNorm: expected at least one value for mean but got shape [0]');
      expect(() => batchNorm(x, x, rank3)).toThrow('batchNorm: expected rank 4 (that of mean) for variance but got shape [2,2,1]');
      expect(() => resizeBilinear(x, [2, -1])).toThrow('resizeBilinear: expected [newHeight, newWidth] of non-negative integers for size but got a plain array [2,-1]');
      expect(() => resizeNearestNeighbor(x, [2, 2], 1 as never)).toThrow('resizeNearestNeighbor: expected a boolean for alignCorners but got number 1');
      expect(() => resizeBilinear(x, [2, 2], true, true)).toThrow('resizeBilinear: expected halfPixelCenters false when alignCorners is true for halfPixelCenters but got true');
      expect(() => resizeBilinearGrad(x, rank3)).toThrow('resizeBilinearGrad: expected rank 4 for dy but got shape [2,2,1]');
      expect(() => resizeNearestNeighborGrad(b, x)).toThrow('resizeNearestNeighborGrad: expected dtype float32 for images but got bool');
    });
    withArrays([host([], [1, 0, 3, 1])], ([noPixels]) => {
      expect(() => resizeBilinear(noPixels, [2, 2])).toThrow('resizeBilinear: expected images of at least one pixel for a non-empty output but got shape [1,0,3,1]');
    });
  });

  it('the native layer checks buffer sizes against the geometry', () => {
    const x = new Float32Array(4);
    expect(() => native.pool2d('max', x, [1, 2, 2, 1, 1, 1, 2, 2, 1, 1, 0, 0], new Float32Array(3))).toThrow('pool2d: expected 1 elements for out but got 3');
    expect(() => native.pool2d('max', x, [1, 2, 2, 1, 1, 1, 0, 2, 1, 1, 0, 0], new Float32Array(1))).toThrow('pool2d: expected an integer in [1, 2^31) for geometry.filterHeight but got 0');
    expect(() => native.pool2d('min' as never, x, [], x)).toThrow("pool2d: expected 'max' or 'avg' for type but got 'min'");
    expect(() => native.resizeBilinear(x, [1, 0, 4, 1], [2, 2], false, false, new Float32Array(4))).toThrow('resizeBilinear: expected an image of at least one pixel for a non-empty output for images but got 0x4 pixels');
    expect(() => native.batchNorm(x, new Float32Array(0), x, null, null, 0.1, x)).toThrow('batchNorm: expected at least one value for mean but got 0 values');
  });
});
