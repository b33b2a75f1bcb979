import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { array, empty, kernels, native } from '../src/index.js';
import { checkLeaks } from './helpers.js';

checkLeaks();

describe('native buffers', () => {
  it('are 64-byte aligned and counted while live', () => {
    const before = native.bufferStats();
    const xs = [1, 3, 17, 1000, 100_000].map((n) => native.alloc('float32', n));
    for (const x of xs) expect(native.isNative(x)).toBe(true);
    expect(native.bufferStats().liveBuffers).toBe(before.liveBuffers + xs.length);
    for (const x of xs) expect(native.release(x)).toBe(true);
    expect(native.bufferStats().liveBuffers).toBe(before.liveBuffers);
  });

  it('detaches on release so a kept view reads as empty, and a second release is refused', () => {
    const x = native.alloc('int32', 8);
    x.fill(7);
    expect(native.release(x)).toBe(true);
    expect(x.length).toBe(0);
    expect(native.release(x)).toBe(false);
  });

  it('reuses freed blocks of the same size class', () => {
    native.trimBufferCache();
    const a = native.alloc('float32', 1 << 20);
    native.release(a);
    expect(native.bufferStats().cachedBytes).toBeGreaterThanOrEqual(4 << 20);
    const b = native.alloc('float32', (1 << 20) - 5);
    expect(native.bufferStats().cachedBytes).toBe(0);
    native.release(b);
    native.trimBufferCache();
    expect(native.bufferStats().cachedBytes).toBe(0);
  });

  it('refuses bad allocation requests with a clear error', () => {
    expect(() => native.alloc('float64' as never, 4)).toThrow("alloc: expected one of float32, int32, bool for dtype but got 'float64'");
    expect(() => native.alloc('float32', -1)).toThrow('alloc: expected an integer in [0, 2^40] for length but got -1');
    expect(() => native.alloc('float32', 1.5)).toThrow('alloc: expected an integer for length but got the number 1.5');
  });
});

describe('DeviceArray', () => {
  it('round-trips values and refuses use after dispose', () => {
    const a = array([1, 2, 3, 4], [2, 2], 'int32');
    expect(a.shape).toEqual([2, 2]);
    expect([...a.toArray()]).toEqual([1, 2, 3, 4]);
    a.dispose();
    expect(() => a.data).toThrow('DeviceArray: used after dispose()');
    expect(() => kernels.add(a, a)).toThrow('Add: expected a live DeviceArray for a but got one already disposed');
  });

  it('checks shapes and dtypes on creation', () => {
    expect(() => array([1, 2, 3], [2, 2])).toThrow('array: expected 4 values for shape [2,2] but got 3');
    expect(() => empty([2, -1])).toThrow('empty: expected an array of non-negative integers for shape but got [2,-1]');
    expect(() => empty([2], 'float16' as never)).toThrow('empty: expected one of float32, int32, bool for dtype but got "float16"');
  });
});

describe('tessera info', () => {
  // Runs the compiled CLI (npm install / npm run build:ts produce dist/).
  it('prints the build, the devices with reasons, and the kernel coverage', () => {
    const out = execFileSync(process.execPath, ['dist/cli.js', 'info', '--json'], { encoding: 'utf8' });
    const info = JSON.parse(out);
    expect(info.devices[0]).toMatchObject({ kind: 'cpu', available: true });
    const cuda = info.devices.find((d: { kind: string }) => d.kind === 'cuda');
    if (!cuda.available) expect(cuda.reason.length).toBeGreaterThan(10);
    expect(info.kernels[0].native).toContain('Add');
    expect(info.kernels[0].fallback.length + info.kernels[0].native.length).toBeGreaterThan(150);
    // tessera-webgpu: probed for real (an adapter, or the reason there is none), and every
    // kernel either in WGSL or in the fallback list, none in both.
    const webgpu = info.devices.find((d: { kind: string }) => d.kind === 'webgpu');
    if (webgpu.available) expect(webgpu.name).toMatch(/^webgpu \S/);
    else expect(webgpu.reason).toMatch(/adapter|webgpu|dawn/i);
    const gpu = info.kernels.find((k: { backend: string }) => k.backend === 'tessera-webgpu');
    expect(gpu.fallbackTo).toBe('tessera-cpu');
    expect(gpu.native).toContain('Add');
    expect(gpu.native).toContain('Reshape');
    expect(gpu.native.filter((k: string) => gpu.fallback.includes(k))).toEqual([]);
    expect(gpu.native.length + gpu.fallback.length).toBe(info.kernels[0].native.length + info.kernels[0].fallback.length);
  });
});
