// The tessera-cuda device and backend on a GPU: transfers (pinned staging, several chunks),
// residency, the caching allocator's stats through memory(), the CPU fallback, errors.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

import { configureCuda, registerCudaBackend } from '../../src/backend/cuda/index.js';
import { CudaDevice, cudaAvailability } from '../../src/device/cuda.js';
import { native, type CudaAddon } from '../../src/native.js';
import { rng } from '../helpers.js';
import { checkCudaLeaks, cudaBackend, describeCuda } from './setup.js';

const cuda = native as unknown as CudaAddon;

describeCuda('tessera-cuda device', () => {
  checkCudaLeaks();

  it('round-trips every dtype, empty buffers and transfers larger than one staging chunk', () => {
    const device = cudaBackend().device;
    const rand = rng(1);
    for (const n of [0, 1, 7, 1000, (16 << 20) / 4 + 3, 9_000_001]) {
      const f = Float32Array.from({ length: n }, () => rand() * 200 - 100);
      const i = Int32Array.from({ length: n }, () => Math.floor(rand() * 2 ** 32) | 0);
      const b = Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1));
      for (const [dtype, values] of [['float32', f], ['int32', i], ['bool', b]] as const) {
        const buffer = device.alloc(dtype, n);
        device.upload(buffer, values);
        const back = device.download(buffer);
        expect(back.constructor).toBe(values.constructor);
        expect(back.length).toBe(n);
        expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(values.buffer, values.byteOffset, values.byteLength))).toBe(true);
        expect(device.free(buffer)).toBe(true);
        expect(device.free(buffer)).toBe(false);
      }
    }
  });

  it('keeps kernel outputs on the device until they are read, and reads them back exactly', async () => {
    const backend = cudaBackend();
    const a = tf.tensor([1, 2, 3, 4], [2, 2]);
    const b = tf.tensor([10, 20], [2]);
    expect(backend.isOnDevice(a)).toBe(false);
    const c = tf.add(a, b);
    expect(backend.isOnDevice(a)).toBe(true);
    expect(backend.isOnDevice(c)).toBe(true);
    expect(backend.cpuValues(c)).toBeUndefined();
    expect([...(await c.data())]).toEqual([11, 22, 13, 24]);
    expect([...c.dataSync()]).toEqual([11, 22, 13, 24]);
    tf.dispose([a, b, c]);
  });

  it('reads asynchronously, many reads at once, and a read survives a dispose in flight', async () => {
    const base = tf.tensor(Array.from({ length: 100_000 }, (_, i) => i));
    const ys = Array.from({ length: 16 }, (_, k) => tf.mul(base, tf.scalar(k)));
    const reads = ys.map((y) => y.data());
    tf.dispose(ys);  // the copies were enqueued when data() was called
    const values = await Promise.all(reads);
    values.forEach((v, k) => {
      expect(v.length).toBe(100_000);
      expect(v[99_999]).toBe(99_999 * k);
    });
    base.dispose();
  });

  it('reshapes and expands dims without moving data, and frees the buffer with the last reference', () => {
    const backend = cudaBackend();
    const a = tf.add(tf.tensor([1, 2, 3, 4, 5, 6]), tf.scalar(1));
    const live = backend.device.stats().liveBuffers;
    const b = tf.reshape(a, [2, -1]);
    expect(b.dataId).toBe(a.dataId);
    const e = tf.expandDims(b, -1);
    expect(e.shape).toEqual([2, 3, 1]);
    expect(e.dataId).toBe(a.dataId);
    const c = tf.cast(e, 'float32');
    expect(c.dataId).toBe(a.dataId);
    const ones = tf.onesLike(e);  // a new tensor on the CPU side; e is not read back
    expect(cudaBackend().cpuValues(e)).toBeUndefined();
    expect([...ones.dataSync()]).toEqual([1, 1, 1, 1, 1, 1]);
    const i = tf.cast(e, 'int32');  // converts values: through tessera-cpu
    expect([...i.dataSync()]).toEqual([2, 3, 4, 5, 6, 7]);
    tf.dispose([e, c, ones, i]);
    expect(backend.device.stats().liveBuffers).toBe(live);
    a.dispose();
    expect([...b.dataSync()]).toEqual([2, 3, 4, 5, 6, 7]);
    b.dispose();
    expect(backend.device.stats().liveBuffers).toBe(live - 1);
  });

  it('serves a steady loop from the allocator cache and reports it through memory()', () => {
    const backend = cudaBackend();
    const x = tf.randomUniform([256, 256]);
    const step = () => tf.tidy(() => tf.sum(tf.relu(tf.matMul(x, x))).dataSync());
    step();
    const before = backend.device.stats();
    for (let i = 0; i < 10; i++) step();
    const after = backend.device.stats();
    expect(after.rawAllocations).toBe(before.rawAllocations);
    expect(after.reuses).toBeGreaterThan(before.reuses);
    const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesInGPUFree: number };
    expect(memory.numBytesInGPU).toBe(after.liveBytes);
    expect(memory.numBytesInGPUFree).toBe(after.cachedBytes);
    x.dispose();
  });

  it('runs kernels without a CUDA kernel on tessera-cpu and hands the results back', () => {
    const x = tf.tensor([[1, 2, 3], [4, 5, 6]]);
    const y = tf.cumsum(tf.mul(x, tf.scalar(2)), 1);  // Cumsum falls back; its input is on the GPU
    expect([...y.dataSync()]).toEqual([2, 6, 12, 8, 18, 30]);
    const z = tf.relu(y);  // back onto the GPU
    expect([...z.dataSync()]).toEqual([2, 6, 12, 8, 18, 30]);
    const c = tf.complex(x, x);
    expect([...tf.real(c).dataSync()]).toEqual([1, 2, 3, 4, 5, 6]);
    const s = tf.tensor(['a', 'b']);
    expect(s.dataSync()).toEqual(['a', 'b']);
    tf.dispose([x, y, z, c, s]);
  });

  it('reports bad buffers by op and argument', () => {
    const device = cudaBackend().device;
    const f = device.alloc('float32', 4);
    const i = device.alloc('int32', 4);
    expect(() => device.upload(f, new Int32Array(4))).toThrow('cudaUpload: expected a float32 array for values but got int32');
    expect(() => device.upload(f, new Float32Array(3))).toThrow('cudaUpload: expected 4 elements for values but got 3');
    expect(() => cuda.cudaBinary('Add', f, [4], i, [4], f)).toThrow('cudaBinary: expected a float32 buffer for b but got a int32 one');
    expect(() => cuda.cudaBinary('Add', f, [2, 3], f, [4], f)).toThrow('cudaBinary: expected a buffer of 6 elements for a but got 4');
    device.free(f);
    expect(() => device.upload(f, new Float32Array(4))).toThrow('cudaUpload: expected a live CUDA buffer for buffer but got one already freed');
    device.free(i);
    expect(() => CudaDevice.open(`cuda:${cudaAvailability().devices.length}`)).toThrow(/expected a device in cuda:0\.\.cuda:/);
  });

  it('picks the device from configureCuda', async () => {
    const last = cudaAvailability().devices.length - 1;
    configureCuda({ device: `cuda:${last}` });
    tf.removeBackend('tessera-cuda');
    registerCudaBackend();
    try {
      expect(await tf.setBackend('tessera-cuda')).toBe(true);
      expect(cudaBackend().device.index).toBe(last);
      const x = tf.square(tf.tensor([3]));
      expect(x.dataSync()[0]).toBe(9);
      x.dispose();
    } finally {
      configureCuda({});
      tf.removeBackend('tessera-cuda');
      registerCudaBackend();
      await tf.setBackend('tessera-cuda');
    }
  });

  it('measures the device copy bandwidth', () => {
    const ms = cudaBackend().device.copyMilliseconds(64 << 20, 5);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(1000);
  });
});
