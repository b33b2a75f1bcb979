// tessera-webgpu BatchMatMul and _FusedMatMul (kernels/wgsl/matmul*.wgsl) against tessera-cpu:
// the tiled GEMM, the dot kernel for small outputs and the split-K pass, transposes, batch
// broadcasting, every activation and bias shape, empty dims, NaN and infinities, a large
// product, pipeline reuse across shapes, GPU residency of the results and buffer leaks.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { expectClose, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, webgpuBackend } from './setup.js';

type Tol = { abs?: number; rel?: number; gpu?: boolean };

/**
 * Runs `make` (which builds its inputs and the op) on tessera-cpu and on tessera-webgpu and
 * compares; the GPU result must have come from a GPU kernel (it is resident on the GPU).
 */
async function compare(make: () => tf.Tensor, tol: Tol = { abs: 1e-5, rel: 1e-5 }, label = ''): Promise<void> {
  const want = await onCpu(() => tf.tidy(make));
  const backend = webgpuBackend();
  const dispatches = backend.device.stats().dispatches;
  const got = tf.tidy(make);
  try {
    expect(got.shape, label).toEqual(want.shape);
    if (got.size > 0 && tol.gpu !== false) {
      expect(backend.isOnGpu(got), `${label}: ran on the GPU`).toBe(true);
      expect(backend.device.stats().dispatches, label).toBeGreaterThan(dispatches);
    }
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

/** Tolerance for a K-long dot product of values in [-1, 1]: float32 rounding grows with K. */
const dotTol = (K: number): Tol => ({ abs: 2e-6 * Math.max(1, Math.sqrt(K)) * 4, rel: 2e-5 });

describeWebGpu('tessera-webgpu matMul', () => {
  let liveBefore = 0;
  beforeEach(() => {
    liveBefore = webgpuBackend().device.stats().liveBuffers;
  });
  afterEach(() => {
    expect(webgpuBackend().device.stats().liveBuffers, 'live GPU buffers after the test').toBe(liveBefore);
  });

  it('matches tessera-cpu on random shapes (tile remainders, every transpose, small and tiled paths)', async () => {
    const rand = rng(1101);
    const sizes = [1, 2, 3, 5, 17, 63, 64, 65, 100, 130];
    for (let trial = 0; trial < 40; trial++) {
      const pick = () => sizes[Math.floor(rand() * sizes.length)];
      const [M, K, N] = [pick(), pick(), pick()];
      const tA = rand() < 0.5;
      const tB = rand() < 0.5;
      const aShape = tA ? [K, M] : [M, K];
      const bShape = tB ? [N, K] : [K, N];
      const av = values(rand, aShape);
      const bv = values(rand, bShape);
      await compare(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), tA, tB), dotTol(K), `${M}x${K}x${N} tA=${tA} tB=${tB}`);
    }
  });

  it('batches, with broadcasting over batch dims as tfjs-backend-cpu does', async () => {
    const rand = rng(1102);
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[3, 70, 20], [3, 20, 65], false, false],
      [[2, 3, 9, 70], [2, 3, 33, 9], true, true],
      [[4, 30, 40], [40, 70], false, false], // b without batch dims
      [[70, 33], [5, 33, 66], false, false], // a without batch dims
      [[1, 70, 33], [6, 33, 66], false, false], // a broadcast over b's batch
      [[2, 3, 66, 12], [3, 12, 70], false, false],
      [[5, 1, 30], [5, 30, 40], false, false], // batched vector x matrix
      [[5, 6, 8], [1, 8, 1], false, false], // batched matrix x vector
      [[2, 2, 1, 7], [2, 2, 7, 1], false, false], // batched dot products
    ];
    for (const [aShape, bShape, tA, tB] of cases) {
      const av = values(rand, aShape);
      const bv = values(rand, bShape);
      let cpuError: unknown = null;
      try {
        await onCpu(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), tA, tB));
      } catch (e) {
        cpuError = e;
      }
      if (cpuError !== null) {
        // What tessera-cpu rejects, tessera-webgpu rejects too (through the fallback).
        expect(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), tA, tB)).toThrow();
        continue;
      }
      await compare(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), tA, tB), dotTol(64), `${aShape} x ${bShape}`);
    }
  });

  it('fuses every activation with bias of every broadcastable shape', async () => {
    const rand = rng(1103);
    const activations = [undefined, 'linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    // [M, K, N, batch]: tiled, dot (vector), dot (few outputs) and split-K geometries.
    const geometries: Array<[number, number, number, number]> = [[70, 20, 65, 2], [1, 50, 33, 1], [40, 30, 1, 3], [5, 600, 6, 1], [100, 2048, 70, 1]];
    const data = geometries.map(([M, K, N, batch]) => ({ a: values(rand, [batch, M, K], -2, 2), b: values(rand, [batch, K, N]) }));
    // Every activation with every bias shape. The tiled geometry (whose pipelines SwiftShader
    // takes a second or two each to compile) once per activation and once per bias shape; the
    // others in turn.
    let turn = 0;
    for (const [actIndex, activation] of activations.entries()) {
      for (let biasKind = 0; biasKind < 8; biasKind++) {
        const g = biasKind === actIndex ? 0 : 1 + (turn++ % (geometries.length - 1));
        const [M, K, N, batch] = geometries[g];
        const aShape = [batch, M, K];
        const bShape = [batch, K, N];
        const biasShape = [null, [N], [1], [M, N], [M, 1], [1, N], [batch, M, N], [batch, 1, 1]][biasKind];
        const bias = biasShape === null ? null : values(rand, biasShape);
        const alphaShape = [[N], [M, 1], [1]][Math.floor(rand() * 3)];
        const alpha = values(rand, alphaShape, 0, 0.5);
        // Transposes (covered above) once per activation only: every combination is a pipeline
        // of its own, and SwiftShader takes most of a second to compile one.
        const tA = biasKind === 1;
        const tB = biasKind === 1;
        await compare(
          () => tf.fused.matMul({
            a: tA ? tf.transpose(tf.tensor(data[g].a, aShape), [0, 2, 1]) : tf.tensor(data[g].a, aShape),
            b: tB ? tf.transpose(tf.tensor(data[g].b, bShape), [0, 2, 1]) : tf.tensor(data[g].b, bShape),
            transposeA: tA,
            transposeB: tB,
            bias: bias === null ? undefined : tf.tensor(bias, biasShape!),
            activation,
            preluActivationWeights: activation === 'prelu' ? tf.tensor(alpha, alphaShape) : undefined,
            leakyreluAlpha: 0.15,
          }),
          dotTol(K),
          `${M}x${K}x${N} batch ${batch} ${activation} bias ${biasShape}`,
        );
      }
    }
  });

  it('takes the fused gradients through the GPU kernels', async () => {
    const rand = rng(1104);
    const av = values(rand, [7, 9]);
    const bv = values(rand, [9, 5]);
    const biasv = values(rand, [5]);
    const dyv = values(rand, [7, 5]);
    for (const activation of ['linear', 'relu', 'elu'] as const) {
      for (const which of [0, 1, 2]) {
        await compare(() => {
          const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
            tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation }))([tf.tensor(av, [7, 9]), tf.tensor(bv, [9, 5]), tf.tensor(biasv, [5])], tf.tensor(dyv, [7, 5]));
          return grads[which];
          // The bias gradient is a Sum, which has no WGSL here yet.
        }, { ...dotTol(9), gpu: which !== 2 }, `${activation} gradient ${which}`);
      }
    }
  });

  it('NaN and infinities propagate; activations keep NaN', async () => {
    const a = [NaN, 1, 2, 3, Infinity, 0, 1, 1, 1];
    const b = [1, 2, 3, 4, 5, 6, 7, 8, -9];
    await compare(() => tf.matMul(tf.tensor(a, [3, 3]), tf.tensor(b, [3, 3])));
    await compare(() => tf.fused.matMul({ a: tf.tensor(a, [3, 3]), b: tf.tensor(b, [3, 3]), activation: 'relu' }));
    await compare(() => tf.fused.matMul({ a: tf.tensor(a, [3, 3]), b: tf.tensor(b, [3, 3]), activation: 'relu6', bias: tf.tensor([NaN, 0, 1]) }));
    // Tiled path too.
    const big = new Float32Array(70 * 70).fill(0.5);
    big[5] = NaN;
    big[70 * 69 + 3] = -Infinity;
    await compare(() => tf.fused.matMul({ a: tf.tensor(big, [70, 70]), b: tf.tensor(big, [70, 70]), activation: 'sigmoid' }));
  });

  it('empty dimensions give empty or zero results', async () => {
    await compare(() => tf.matMul(tf.zeros([0, 5]), tf.ones([5, 3])));
    await compare(() => tf.matMul(tf.ones([4, 5]), tf.ones([5, 0])));
    await compare(() => tf.matMul(tf.ones([0, 4, 5]), tf.ones([0, 5, 2])));
    // K = 0: zeros, then the epilogue.
    await compare(() => tf.matMul(tf.ones([70, 0]), tf.ones([0, 66])));
    await compare(() => tf.fused.matMul({ a: tf.ones([3, 0]), b: tf.ones([0, 2]), bias: tf.tensor([1, -2]), activation: 'relu' }));
  });

  it('splits long K over workgroups when the output has few tiles', async () => {
    const rand = rng(1105);
    const av = values(rand, [100, 4096]);
    const bv = values(rand, [4096, 90]);
    const backend = webgpuBackend();
    const before = backend.device.stats().dispatches;
    await compare(() => tf.matMul(tf.tensor(av, [100, 4096]), tf.tensor(bv, [4096, 90])), dotTol(4096));
    // The partial products and their sum: two dispatches.
    expect(backend.device.stats().dispatches - before).toBe(2);
  });

  it('reuses pipelines across shapes (sizes are parameters, not part of the WGSL)', async () => {
    const backend = webgpuBackend();
    const run = (M: number, K: number, N: number) => tf.tidy(() => tf.matMul(tf.ones([M, K]), tf.ones([N, K]), false, true).dataSync());
    run(70, 30, 80);
    const pipelines = backend.device.stats().pipelines;
    for (const [M, K, N] of [[65, 31, 130], [128, 7, 200], [300, 100, 65]]) {
      const out = run(M, K, N);
      expect(out[0]).toBe(K);
    }
    expect(backend.device.stats().pipelines).toBe(pipelines);
  });

  it('a large product (1024x1024x1024) matches tessera-cpu', async () => {
    const rand = rng(1106);
    const av = values(rand, [1024, 1024]);
    const bv = values(rand, [1024, 1024]);
    await compare(() => tf.matMul(tf.tensor(av, [1024, 1024]), tf.tensor(bv, [1024, 1024])), { abs: 2e-4, rel: 1e-4 });
  });

  it('spreads more workgroups than a grid dimension holds over a 2-D grid', async () => {
    // The per-dimension limit is lowered for the test (SwiftShader would take minutes to run
    // 65536 real 64x64 tiles): the same code path as past 65535 on a real adapter.
    const limits = webgpuBackend().device.limits as { maxComputeWorkgroupsPerDimension: number };
    const saved = limits.maxComputeWorkgroupsPerDimension;
    limits.maxComputeWorkgroupsPerDimension = 7;
    try {
      const rand = rng(1107);
      const av = values(rand, [5, 130, 40]);
      const bv = values(rand, [5, 40, 100]);
      // 5 * 3 * 2 = 30 tiles: a 6 x 5 grid.
      await compare(() => tf.matMul(tf.tensor(av, [5, 130, 40]), tf.tensor(bv, [5, 40, 100])), dotTol(40), 'tiled');
      const ev = values(rand, [11, 65, 9]);
      const fv = values(rand, [11, 9, 70]);
      // 11 * 2 * 2 = 44 tiles: a 7 x 7 grid, five workgroups of which have no tile.
      await compare(() => tf.matMul(tf.tensor(ev, [11, 65, 9]), tf.tensor(fv, [11, 9, 70])), dotTol(9), 'tiled, idle workgroups');
      // 300 outputs, 8 per workgroup (32 lanes each): 38 workgroups, a 7 x 6 grid.
      const cv = values(rand, [300, 300]);
      const dv = values(rand, [300, 1]);
      await compare(() => tf.matMul(tf.tensor(cv, [300, 300]), tf.tensor(dv, [300, 1])), dotTol(300), 'matrix x vector');
    } finally {
      limits.maxComputeWorkgroupsPerDimension = saved;
    }
  });

  it('many small matrices (70000 of 3x2 by 2x2)', async () => {
    const rand = rng(1109);
    const batch = 70000;
    const av = values(rand, [batch, 3, 2]);
    const bv = values(rand, [batch, 2, 2]);
    await compare(() => tf.matMul(tf.tensor(av, [batch, 3, 2]), tf.tensor(bv, [batch, 2, 2])));
  });

  it('batch dims tfjs-backend-cpu mishandles ([2, 1] against [1, 3]) are left to it', async () => {
    const rand = rng(1108);
    const av = values(rand, [2, 1, 4, 3]);
    const bv = values(rand, [1, 3, 3, 5]);
    const make = () => tf.matMul(tf.tensor(av, [2, 1, 4, 3]), tf.tensor(bv, [1, 3, 3, 5]));
    let cpu: unknown;
    try {
      cpu = (await onCpu(make)).values;
    } catch (e) {
      cpu = e;
    }
    if (cpu instanceof Error) {
      expect(make).toThrow();
    } else {
      await compare(make, { gpu: false });
    }
  });

  it('int32 runs on tessera-cpu (the fallback), with the same result', async () => {
    const backend = webgpuBackend();
    const a = tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32');
    const b = tf.tensor([[5, 6], [7, 8]], [2, 2], 'int32');
    const c = tf.matMul(a, b);
    expect(c.dtype).toBe('int32');
    expect(backend.isOnGpu(c)).toBe(false);
    expect([...c.dataSync()]).toEqual([19, 22, 43, 50]);
    tf.dispose([a, b, c]);
  });
});
