import * as tf from '@tensorflow/tfjs-core';
// Gradient registrations come with tfjs-layers (or the @tensorflow/tfjs union); tfjs-core registers none.
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { native } from '../src/native.js';
import { TESSERA_CPU, kernelCoverage } from '../src/index.js';
import { checkLeaks, liveBuffers, rng } from './helpers.js';

checkLeaks();

beforeAll(async () => {
  await tf.setBackend(TESSERA_CPU);
});

describe('tessera-cpu backend', () => {
  it('is registered and is the default once tessera is imported', () => {
    expect(tf.getBackend()).toBe(TESSERA_CPU);
    expect(tf.engine().registryFactory[TESSERA_CPU].priority).toBeGreaterThan(tf.engine().registryFactory.cpu.priority);
  });

  it('keeps numeric tensors in native buffers and frees them on dispose', () => {
    const before = liveBuffers();
    const a = tf.tensor([1, 2, 3, 4], [2, 2]);
    const b = tf.tensor([1, 0, 1, 0], [2, 2], 'int32');
    const c = tf.tensor([true, false], [2], 'bool');
    expect(liveBuffers()).toBe(before + 3);
    const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
    expect(native.isNative(backend.data.get(a.dataId).values)).toBe(true);
    expect(Number(native.bufferStats().liveBytes)).toBeGreaterThanOrEqual(16 + 16 + 2);
    tf.dispose([a, b, c]);
    expect(liveBuffers()).toBe(before);
  });

  it('recycles the buffers of small disposed tensors instead of reallocating them', () => {
    const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
    const a = tf.tensor([1, 2, 3, 4, 5]);
    const first = backend.data.get(a.dataId).values;
    a.dispose();
    const allocations = native.bufferStats().totalAllocations;
    const b = tf.tensor([6, 7, 8, 9, 10]);
    expect(backend.data.get(b.dataId).values).toBe(first);
    expect([...b.dataSync()]).toEqual([6, 7, 8, 9, 10]);
    expect(native.bufferStats().totalAllocations).toBe(allocations);
    b.dispose();
  });

  it('tiny float32 add, sub, mul and div (computed in JS) equal the native kernel bit for bit', () => {
    // Sizes up to 16 take the JS loop; the same values tiled to 4096 elements take the native
    // kernel. NaN, infinities, signed zeros, subnormals and overflowing products included.
    const special = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, 3e38, -3e38, 1e-30, 0.1, -7.25, 1 / 3];
    const rand = rng(2024);
    const tile = (v: Float32Array, n: number) => Float32Array.from({ length: n }, (_, i) => v[i % v.length]);
    for (const size of [1, 2, 3, 4, 7, 15, 16]) {
      for (let trial = 0; trial < 6; trial++) {
        const pick = () => (rand() < 0.4 ? special[Math.floor(rand() * special.length)] : (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6));
        const av = Float32Array.from({ length: size }, pick);
        const bv = Float32Array.from({ length: size }, pick);
        const scalar = trial % 3 === 2;
        for (const op of [tf.add, tf.sub, tf.mul, tf.div]) {
          const small = tf.tidy(() => op(tf.tensor(av), scalar ? tf.scalar(bv[0]) : tf.tensor(bv)).dataSync());
          const big = tf.tidy(() => op(tf.tensor(tile(av, 4096)), scalar ? tf.scalar(bv[0]) : tf.tensor(tile(bv, 4096))).dataSync());
          for (let i = 0; i < size; i++) expect(Object.is(small[i], big[i])).toBe(true);
        }
      }
    }
  });

  it('a slice of the whole tensor shares its storage and outlives the original', () => {
    const before = liveBuffers();
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const whole = tf.slice(x, [0, 0], [2, 3]);
    const part = tf.slice(x, [1, 0], [1, 3]);
    expect(whole.dataId).toBe(x.dataId);
    expect(part.dataId).not.toBe(x.dataId);
    x.dispose();
    expect([...whole.dataSync()]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...part.dataSync()]).toEqual([4, 5, 6]);
    tf.dispose([whole, part]);
    expect(liveBuffers()).toBe(before);
  });

  it('hands out copies on read, so a kept array survives the tensor', () => {
    const a = tf.tensor([1, 2, 3]);
    const values = a.dataSync();
    a.dispose();
    expect([...values]).toEqual([1, 2, 3]);
  });

  it('string and complex tensors go through the fallback and still free their parts', () => {
    const before = liveBuffers();
    const s = tf.tensor(['a', 'bc']);
    const z = tf.complex([1, 2], [3, 4]);
    const r = tf.real(z);
    expect([...r.dataSync()]).toEqual([1, 2]);
    tf.dispose([s, z, r]);
    expect(liveBuffers()).toBe(before);
  });

  it('leaves no native buffer behind after a training step through the fallback kernels', () => {
    const before = liveBuffers();
    const init = tf.randomNormal([8, 4], 0, 1, 'float32', 1);
    const w = tf.variable(init);
    init.dispose();
    const x = tf.randomNormal([16, 8], 0, 1, 'float32', 2);
    const opt = tf.train.adam(0.01);
    for (let i = 0; i < 3; i++) {
      opt.minimize(() => tf.mean(tf.square(tf.matMul(x, w))));
    }
    opt.dispose();
    tf.dispose([w, x]);
    expect(liveBuffers()).toBe(before);
  });

  it('matches tfjs-backend-cpu on a small computation end to end', async () => {
    const run = () => tf.tidy(() => {
      const a = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
      const b = tf.tensor1d([0.5, 2, -1]);
      return Array.from(tf.relu(tf.add(tf.mul(a, b), 1)).dataSync());
    });
    const ours = run();
    await tf.setBackend('cpu');
    const theirs = run();
    await tf.setBackend(TESSERA_CPU);
    expect(ours).toEqual(theirs);
  });

  it('lists every tfjs-backend-cpu kernel as either native or fallback', () => {
    const [coverage] = kernelCoverage();
    const cpuKernels = tf.getKernelsForBackend('cpu').map((k) => k.kernelName).sort();
    expect([...coverage.native, ...coverage.fallback].filter((k) => cpuKernels.includes(k)).sort()).toEqual(cpuKernels);
    expect(coverage.native).toContain('Add');
    for (const name of coverage.native) expect(tf.getKernel(name, TESSERA_CPU)).toBeDefined();
  });
});
