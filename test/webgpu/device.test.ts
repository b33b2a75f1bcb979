// The tessera-webgpu device and backend: residency, reads, the CPU fallback, errors, leaks,
// process exit; and the binary kernels (kernels/wgsl/binary.wgsl) against tessera-cpu.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

import { registerWebGpuBackend } from '../../src/backend/webgpu/index.js';
import { WebGpuError, workgroupsFor } from '../../src/device/webgpu.js';
import { expectClose, randomShape, randomValues, rng } from '../helpers.js';
import { describeWebGpu, onCpu, webgpuBackend } from './setup.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describeWebGpu('tessera-webgpu device', () => {
  it('names its adapter and keeps kernel outputs on the GPU until they are read', async () => {
    const backend = webgpuBackend();
    expect(backend.device.name.length).toBeGreaterThan(0);
    const a = tf.tensor([1, 2, 3, 4], [2, 2]);
    const b = tf.tensor([10, 20], [2]);
    expect(backend.isOnGpu(a)).toBe(false);
    const dispatches = backend.device.stats().dispatches;
    const c = tf.add(a, b);
    expect(backend.device.stats().dispatches).toBe(dispatches + 1);
    expect(backend.isOnGpu(a)).toBe(true);
    expect(backend.isOnGpu(c)).toBe(true);
    expect([...(await c.data())]).toEqual([11, 22, 13, 24]);
    expect([...c.dataSync()]).toEqual([11, 22, 13, 24]);
    tf.dispose([a, b, c]);
  });

  it('reshapes without moving data: the result shares the GPU buffer', () => {
    const backend = webgpuBackend();
    const a = tf.add(tf.tensor([1, 2, 3, 4, 5, 6]), tf.scalar(1));
    const before = backend.device.stats();
    const b = tf.reshape(a, [2, -1]);
    expect(b.shape).toEqual([2, 3]);
    expect(b.dataId).toBe(a.dataId);
    expect(backend.isOnGpu(b)).toBe(true);
    expect(backend.device.stats().liveBuffers).toBe(before.liveBuffers);
    expect(() => tf.reshape(a, [4, 2])).toThrow(/Size\(6\) must match the product of shape 4,2/);
    a.dispose();
    expect([...b.dataSync()]).toEqual([2, 3, 4, 5, 6, 7]);
    b.dispose();
  });

  it('hands small CPU-resident ops to tessera-cpu when the hand-off is on, never GPU-resident ones', () => {
    const backend = webgpuBackend();
    expect(backend.cpuHandoffMaxElements).toBe(0); // the test set-up turns it off
    backend.cpuHandoffMaxElements = 8;
    try {
      const a = tf.tensor([1, 2, 3]);
      const big = tf.tensor(Array.from({ length: 9 }, (_, i) => i));
      const dispatches = backend.device.stats().dispatches;
      const small = tf.add(a, a);
      expect(backend.device.stats().dispatches).toBe(dispatches);
      expect(backend.isOnGpu(small)).toBe(false);
      expect([...small.dataSync()]).toEqual([2, 4, 6]);
      const large = tf.add(big, big); // 9 elements: over the limit
      expect(backend.device.stats().dispatches).toBe(dispatches + 1);
      const onGpu = tf.add(large, large); // a GPU-resident input stays on the GPU
      expect(backend.device.stats().dispatches).toBe(dispatches + 2);
      expect(backend.isOnGpu(onGpu)).toBe(true);
      tf.dispose([a, big, small, large, onGpu]);
    } finally {
      backend.cpuHandoffMaxElements = 0;
    }
  });

  it('reads synchronously and asynchronously, many times in a row', async () => {
    const x = tf.tensor(Array.from({ length: 1000 }, (_, i) => i));
    for (let i = 0; i < 50; i++) {
      const y = tf.add(x, tf.scalar(i));
      const values = i % 2 === 0 ? y.dataSync() : await y.data();
      expect(values[999]).toBe(999 + i);
      tf.dispose(y);
    }
    x.dispose();
  });

  it('frees GPU buffers on dispose and reuses them', () => {
    const device = webgpuBackend().device;
    const before = device.stats().liveBuffers;
    for (let i = 0; i < 20; i++) {
      tf.tidy(() => tf.mul(tf.add(tf.ones([256]), tf.ones([256])), tf.scalar(3)).dataSync());
    }
    expect(device.stats().liveBuffers).toBe(before);
    expect(device.stats().pooledBuffers).toBeGreaterThan(0);
  });

  it('runs kernels without WGSL on tessera-cpu and keeps their outputs on the CPU', () => {
    const backend = webgpuBackend();
    const x = tf.tensor([0, 1, 2]);
    const y = tf.add(x, x); // GPU
    const { values: z, indices } = tf.unique(y); // fallback (Unique has no WGSL): the GPU result is read back
    expect(backend.isOnGpu(z)).toBe(false);
    expect([...z.dataSync()]).toEqual([0, 2, 4]);
    const w = tf.add(z, z); // uploaded again
    expect(backend.isOnGpu(w)).toBe(true);
    expect([...w.dataSync()]).toEqual([0, 4, 8]);
    tf.dispose([x, y, z, indices, w]);
  });

  it('keeps string and complex64 tensors on the CPU and runs their kernels there', () => {
    const s = tf.tensor(['a', 'bc']);
    expect(s.dataSync()).toEqual(['a', 'bc']);
    const z = tf.complex([1, 2], [3, 4]);
    const doubled = tf.add(z, z);
    expectClose(tf.real(doubled).dataSync(), [2, 4], 'float32');
    expectClose(tf.imag(doubled).dataSync(), [6, 8], 'float32');
    expectClose(tf.abs(z).dataSync(), [Math.hypot(1, 3), Math.hypot(2, 4)], 'float32');
    tf.dispose([s, z, doubled]);
  });

  it('bool and int32 round-trip through the GPU as 32-bit words', () => {
    const a = tf.tensor([1, 5, -3, 2147483647], [4], 'int32');
    const b = tf.tensor([1, -5, -3, 1], [4], 'int32');
    const sum = tf.add(a, b);
    expect(sum.dtype).toBe('int32');
    expect([...sum.dataSync()]).toEqual([2, 0, -6, -2147483648]);
    const eq = tf.equal(a, b);
    expect(eq.dtype).toBe('bool');
    expect([...eq.dataSync()]).toEqual([1, 0, 1, 0]);
    const both = tf.logicalAnd(eq, tf.tensor([true, true, false, false]));
    expect([...both.dataSync()]).toEqual([1, 0, 0, 0]);
    tf.dispose([a, b, sum, eq, both]);
  });

  it('a kernel whose WGSL does not compile throws the compiler message, synchronously', () => {
    const backend = webgpuBackend();
    const x = tf.tensor([1, 2]);
    const bad = { key: 'test/bad-shader', wgsl: () => '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_name; }' };
    expect(() => backend.runProgram(bad, [x], [2], 'float32', null, [1])).toThrow(WebGpuError);
    expect(() => backend.runProgram(bad, [x], [2], 'float32', null, [1])).toThrow(/kernel test\/bad-shader does not compile: .*undefined_name/s);
    // The device stays usable.
    expect([...tf.add(x, x).dataSync()]).toEqual([2, 4]);
    x.dispose();
  });

  it('splits large dispatches over a 2-D grid', () => {
    expect(workgroupsFor(100, 256)).toEqual([1, 1, 1]);
    expect(workgroupsFor(256 * 65535, 256)).toEqual([65535, 1, 1]);
    const [x, y] = workgroupsFor(256 * 70000, 256);
    expect(x * y).toBeGreaterThanOrEqual(70000);
    expect(x).toBeLessThanOrEqual(65535);
    const n = 256 * 70000 + 3;
    const a = tf.fill([n], 1.5);
    const sum = tf.add(a, a);
    const values = sum.dataSync();
    expect(values[0]).toBe(3);
    expect(values[n - 1]).toBe(3);
    expect(values[n >> 1]).toBe(3);
    tf.dispose([a, sum]);
  });
});

describeWebGpu('tessera-webgpu binary kernels', () => {
  const OPS: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, ('float32' | 'int32' | 'bool')[]]> = [
    ['add', tf.add, ['float32', 'int32']],
    ['sub', tf.sub, ['float32', 'int32']],
    ['mul', tf.mul, ['float32', 'int32']],
    ['div', (a, b) => tf.div(a, b), ['float32']],
    ['maximum', tf.maximum, ['float32', 'int32']],
    ['minimum', tf.minimum, ['float32', 'int32']],
    ['squaredDifference', tf.squaredDifference, ['float32', 'int32']],
    ['equal', tf.equal, ['float32', 'int32', 'bool']],
    ['notEqual', tf.notEqual, ['float32', 'int32', 'bool']],
    ['less', tf.less, ['float32', 'int32']],
    ['lessEqual', tf.lessEqual, ['float32', 'int32']],
    ['greater', tf.greater, ['float32', 'int32']],
    ['greaterEqual', tf.greaterEqual, ['float32', 'int32']],
    ['logicalAnd', tf.logicalAnd, ['bool']],
    ['logicalOr', tf.logicalOr, ['bool']],
  ];

  it('match tessera-cpu on random shapes with broadcasting, every dtype', async () => {
    const rand = rng(4242);
    const backend = webgpuBackend();
    for (const [name, op, dtypes] of OPS) {
      for (const dtype of dtypes) {
        for (let trial = 0; trial < 4; trial++) {
          const rank = Math.floor(rand() * 5);
          const shape = randomShape(rand, rank);
          const bShape = trial % 2 === 0 ? shape : shape.map((d) => (rand() < 0.5 ? 1 : d)).slice(Math.floor(rand() * (rank + 1)));
          const av = randomValues(rand, shape.reduce((p, d) => p * d, 1), dtype);
          const bv = randomValues(rand, bShape.reduce((p, d) => p * d, 1), dtype).map((v) => (dtype !== 'bool' && v === 0 ? 1 : v));
          const make = () => [tf.tensor(av, shape, dtype), tf.tensor(bv, bShape, dtype)];
          const want = await onCpu(() => tf.tidy(() => { const [a, b] = make(); return op(a, b); }));
          const [a, b] = make();
          const dispatches = backend.device.stats().dispatches;
          const got = op(a, b);
          expect(backend.device.stats().dispatches, `${name} ${dtype} ran on the GPU`).toBe(dispatches + 1);
          expect(got.shape).toEqual(want.shape);
          expect(got.dtype).toBe(want.dtype);
          expectClose(got.dataSync() as ArrayLike<number>, want.values as ArrayLike<number>, got.dtype as 'float32', { rel: 1e-6 });
          tf.dispose([a, b, got]);
        }
      }
    }
  });

  it('NaN and infinities follow tfjs: NaN propagates through maximum and minimum', () => {
    const a = tf.tensor([NaN, 1, Infinity, -Infinity, NaN, 0]);
    const b = tf.tensor([0, NaN, 1, 1, NaN, -0]);
    const check = (t: tf.Tensor, want: number[]) => expectClose(t.dataSync(), want, 'float32');
    check(tf.maximum(a, b), [NaN, NaN, Infinity, 1, NaN, 0]);
    check(tf.minimum(a, b), [NaN, NaN, 1, -Infinity, NaN, -0]);
    check(tf.add(a, b), [NaN, NaN, Infinity, -Infinity, NaN, 0]);
    expect([...tf.equal(a, b).dataSync()]).toEqual([0, 0, 0, 0, 0, 1]);
    expect([...tf.notEqual(a, b).dataSync()]).toEqual([1, 1, 1, 1, 1, 0]);
    tf.dispose([a, b]);
  });

  it('empty tensors give empty results without a dispatch', () => {
    const backend = webgpuBackend();
    const a = tf.tensor([], [0, 3]);
    const b = tf.tensor([1, 2, 3], [3]);
    const dispatches = backend.device.stats().dispatches;
    const c = tf.add(a, b);
    expect(c.shape).toEqual([0, 3]);
    expect(c.dataSync().length).toBe(0);
    expect(backend.device.stats().dispatches).toBe(dispatches);
    tf.dispose([a, b, c]);
  });
});

it('a script that used tessera-webgpu exits by itself', () => {
  const script = `
    import * as tf from '@tensorflow/tfjs-core';
    import './dist/index.js';
    const ok = await tf.setBackend('tessera-webgpu');
    if (ok) console.log(tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync().join(','));
    else console.log('no webgpu');
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60000 });
  expect(child.status, child.stderr).toBe(0);
  expect(['4,6', 'no webgpu']).toContain(child.stdout.trim());
});

describeWebGpu('tessera-webgpu device loss', () => {
  it('a lost device makes reads and later ops throw instead of hanging', async () => {
    const backend = webgpuBackend();
    const x = tf.add(tf.tensor([1, 2, 3]), tf.scalar(1));
    // Lose the device under the backend's feet, as a driver reset would.
    (backend.device as unknown as { device: GPUDevice }).device.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(() => x.dataSync()).toThrow(/device was lost/);
    expect(() => tf.add(x, x)).toThrow(/device was lost/);
    await expect(x.data()).rejects.toThrow(/device was lost/);
    // A fresh backend opens a fresh device.
    tf.removeBackend('tessera-webgpu');
    registerWebGpuBackend();
    expect(await tf.setBackend('tessera-webgpu')).toBe(true);
    expect([...tf.add(tf.tensor([1]), tf.tensor([2])).dataSync()]).toEqual([3]);
  });
});
