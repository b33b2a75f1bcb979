// tessera-cuda on the host side, on every machine (no GPU needed): what the addon was built
// with, what `tessera info` reports, how tfjs and the device API fail without a device, the
// caching allocator's bookkeeping (over a mock raw allocator), the launch planners and the
// bindings' argument checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';

import '../../src/index.js';
import { kernelCoverage } from '../../src/backend/index.js';
import { configureCuda } from '../../src/backend/cuda/index.js';
import { matMulGeometry } from '../../src/backend/cuda/kernels/matmul.js';
import { CudaDevice, CudaError, cudaAvailability, parseCudaDevice } from '../../src/device/cuda.js';
import { native, type CudaAddon } from '../../src/native.js';
import { unavailableReason } from './setup.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function hasNvcc(): boolean {
  return spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

const cuda = native as unknown as CudaAddon;
const built = native.cudaInfo().built;

describe('tessera-cuda build and reporting', () => {
  it('is built with CUDA wherever nvcc is on the PATH', () => {
    if (!hasNvcc()) {
      console.log('no nvcc on the PATH: the addon may be built without CUDA');
      expect(typeof native.cudaInfo().reason).toBe('string');
      return;
    }
    expect(native.buildInfo().with.cuda).toMatch(/^\d+\.\d+/);
    expect(native.cudaInfo().built).toBe(true);
    expect(typeof cuda.cudaMatMul).toBe('function');
  });

  it('tessera info --json lists the CUDA device, or why there is none, and tessera-cuda\'s kernel coverage', () => {
    const out = execFileSync(process.execPath, ['dist/cli.js', 'info', '--json'], { cwd: root, encoding: 'utf8' });
    const info = JSON.parse(out) as { devices: { kind: string; available: boolean; reason?: string; name: string }[]; kernels: { backend: string; native: string[]; fallback: string[] }[] };
    const devices = info.devices.filter((d) => d.kind === 'cuda');
    expect(devices.length).toBeGreaterThan(0);
    const availability = cudaAvailability();
    if (availability.available) {
      expect(devices.every((d) => d.available && /^cuda:\d+ /.test(d.name))).toBe(true);
    } else {
      expect(devices).toEqual([{ kind: 'cuda', name: 'cuda', available: false, reason: availability.reason }]);
      expect(availability.reason).toMatch(/^(no CUDA device|the addon was built without CUDA)/);
    }
    const coverage = info.kernels.find((k) => k.backend === 'tessera-cuda')!;
    expect(coverage.native).toEqual(expect.arrayContaining(['BatchMatMul', '_FusedMatMul', 'Conv2D', 'Conv2DBackpropInput',
      'Conv2DBackpropFilter', 'Add', 'Multiply', 'Relu', 'Sum', 'Max', 'ArgMax', 'Softmax', 'Transpose', 'GatherV2', 'MaxPool',
      'AvgPool', 'MaxPoolGrad', 'AvgPoolGrad', 'FusedBatchNorm', 'Reshape', 'ExpandDims', 'Cast', 'ZerosLike']));
    // Every tessera-cpu kernel is on tessera-cuda, natively or through the fallback; nothing else is.
    const cpu = kernelCoverage().find((k) => k.backend === 'tessera-cpu')!;
    expect([...coverage.native, ...coverage.fallback].sort()).toEqual([...cpu.native, ...cpu.fallback].sort());
    expect(coverage.native.filter((k) => coverage.fallback.includes(k))).toEqual([]);
  });

  it('tessera info (text) prints the CUDA line and the tessera-cuda kernels', () => {
    const out = execFileSync(process.execPath, ['dist/cli.js', 'info'], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/kernels on tessera-cuda: \d+ native, \d+ fallback \(tessera-cpu\)/);
    if (unavailableReason !== null) expect(out).toContain(`✗ cuda — ${unavailableReason}`);
    else expect(out).toMatch(/✓ cuda:0 /);
  });
});

describe('tessera-cuda without a device', () => {
  it.skipIf(unavailableReason === null)('tf.setBackend(\'tessera-cuda\') fails with the reason and tfjs goes on with its best backend', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      await tf.setBackend('tessera-cpu');
      expect(await tf.setBackend('tessera-cuda')).toBe(false);
      // tfjs names the failed backend until the next op, which initializes the best one there is.
      const x = tf.add(tf.scalar(1), tf.scalar(2));
      expect(tf.getBackend()).toBe('tessera-cpu');
      expect(x.dataSync()[0]).toBe(3);
      x.dispose();
      const warned = warn.mock.calls.flat().map(String).join('\n');
      expect(warned).toContain('tessera-cuda');
      expect(warned).toContain(unavailableReason!);
    } finally {
      warn.mockRestore();
      tf.removeBackend('tessera-cuda');
      (await import('../../src/backend/cuda/index.js')).registerCudaBackend();
    }
  });

  it.skipIf(unavailableReason === null)('opening a device or allocating on one throws the reason', () => {
    expect(() => CudaDevice.open()).toThrow(CudaError);
    expect(() => CudaDevice.open('cuda:1')).toThrow(unavailableReason!);
    if (built) expect(() => cuda.cudaAlloc(0, 'float32', 4)).toThrow(unavailableReason!);
  });

  it.skipIf(unavailableReason === null)('the GPU-only scripts say why they cannot run: bench, kernel lab, conformance', () => {
    for (const script of ['bench/cuda.mjs', 'bench/cuda_lab.mjs']) {
      const run = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8' });
      expect(run.status, script).toBe(1);
      expect(run.stderr).toContain(unavailableReason!);
    }
    const env = { ...process.env, TESSERA_REQUIRE: '' };
    const conformance = spawnSync(process.execPath, ['test/conformance/run.mjs', '--backend', 'tessera-cuda'], { cwd: root, encoding: 'utf8', env });
    expect(conformance.status).toBe(0);
    expect(conformance.stdout).toContain(`skipping: tfjs-core suite on tessera-cuda: ${unavailableReason}`);
    const required = spawnSync(process.execPath, ['test/conformance/run.mjs', '--backend', 'tessera-cuda'], { cwd: root, encoding: 'utf8', env: { ...env, TESSERA_REQUIRE: 'cuda' } });
    expect(required.status).toBe(1);
    expect(required.stdout).toContain(`FAIL: tfjs-core suite on tessera-cuda: ${unavailableReason}`);
  });

  it('parses device specs and rejects bad ones, and configureCuda checks its options', () => {
    expect(parseCudaDevice('cuda')).toBe(0);
    expect(parseCudaDevice('cuda:3')).toBe(3);
    expect(parseCudaDevice(2)).toBe(2);
    for (const bad of ['gpu:0', 'cuda:-1', 'cuda:x', -1, 1.5]) {
      expect(() => parseCudaDevice(bad as string)).toThrow(/expected 'cuda', 'cuda:N' or a device index for device/);
    }
    expect(() => configureCuda({ device: 'cuda0' })).toThrow(/for device but got "cuda0"/);
    expect(() => configureCuda({ matmulPrecision: 'fp16' as never })).toThrow(/expected 'fp32', 'tf32' or 'bf16' for matmulPrecision/);
    configureCuda({});
  });
});

describe('caching allocator (mock raw allocator)', () => {
  it('rounds requests to four size classes per power of two, at least 256 bytes', () => {
    const cases: [number, number][] = [[0, 256], [1, 256], [256, 256], [257, 320], [300, 320], [512, 512], [600, 640],
      [1000, 1024], [1025, 1280], [3 << 20, 3 << 20], [(3 << 20) + 1, 3.5 * (1 << 20)], [7 << 20, 7 << 20]];
    for (const [bytes, size] of cases) expect(native.cachingAllocatorSizeClass(bytes), `${bytes} bytes`).toBe(size);
    for (let b = 1; b < 1 << 16; b += 97) {
      const s = native.cachingAllocatorSizeClass(b);
      expect(s).toBeGreaterThanOrEqual(b);
      expect(s).toBeLessThanOrEqual(Math.max(256, Math.ceil(b * 1.25)));
    }
  });

  it('reuses freed blocks of the same size class without new raw allocations, and counts bytes', () => {
    const a = new native.MockCachingAllocator(1 << 20);
    const x = a.alloc(1000);
    const y = a.alloc(4096);
    expect(a.stats()).toMatchObject({ liveBytes: 1024 + 4096, liveBuffers: 2, cachedBytes: 0, cachedBuffers: 0, rawAllocations: 2, reuses: 0 });
    expect(a.free(x)).toBe(true);
    expect(a.free(x)).toBe(false);
    expect(a.stats()).toMatchObject({ liveBytes: 4096, liveBuffers: 1, cachedBytes: 1024, cachedBuffers: 1 });
    const z = a.alloc(900);  // same class as 1000 bytes
    expect(a.stats()).toMatchObject({ liveBytes: 4096 + 1024, cachedBytes: 0, rawAllocations: 2, reuses: 1 });
    const w = a.alloc(2000);  // another class: a raw allocation
    expect(a.stats().rawAllocations).toBe(3);
    for (const id of [y, z, w]) a.free(id);
    expect(a.stats()).toMatchObject({ liveBytes: 0, liveBuffers: 0, cachedBuffers: 3, peakLiveBytes: 4096 + 1024 + 2048 });
    expect(a.rawBytesInUse()).toBe(1024 + 4096 + 2048);
    a.trim();
    expect(a.stats()).toMatchObject({ cachedBytes: 0, cachedBuffers: 0 });
    expect(a.rawBytesInUse()).toBe(0);
    expect(a.alloc(0)).toBe(0);
    expect(a.stats().liveBuffers).toBe(0);
  });

  it('runs a steady loop with no raw allocation after the first iteration', () => {
    const a = new native.MockCachingAllocator(1 << 24);
    const sizes = [784 * 128 * 4, 128 * 4, 128 * 10 * 4, 64 * 784 * 4, 64 * 128 * 4, 64 * 10 * 4, 4];
    for (let step = 0; step < 20; step++) {
      const ids = sizes.map((s) => a.alloc(s));
      if (step === 0) expect(a.stats().rawAllocations).toBe(sizes.length);
      for (const id of ids.reverse()) a.free(id);
    }
    expect(a.stats()).toMatchObject({ rawAllocations: sizes.length, reuses: 19 * sizes.length, liveBuffers: 0 });
  });

  it('releases the cache and retries when the raw allocator is out of memory, then reports the error', () => {
    const a = new native.MockCachingAllocator(8192);
    const x = a.alloc(4096);
    a.free(x);  // 4096 cached
    const y = a.alloc(6000);  // class 6144: fits only once the cached 4096 are released
    expect(y).toBeGreaterThan(0);
    expect(a.stats()).toMatchObject({ liveBytes: 6144, cachedBytes: 0, rawAllocations: 2 });
    expect(() => a.alloc(4096)).toThrow(/mock\.alloc: out of device memory allocating 4096 bytes \(6144 bytes live in 1 blocks\)/);
    expect(a.stats().liveBytes).toBe(6144);
  });
});

describe.skipIf(!built)('CUDA launch planners', () => {
  it('SGEMM: 128x128 tiles once they fill the GPU, 64x64 before; float4 only where the layout allows', () => {
    const big = cuda.cudaPlanSgemm(1, 4096, 4096, 4096, false, false, 'fp32', 132);
    expect(big).toMatchObject({ kernel: 'sgemm128x128', grid: [32, 32, 1], block: [256, 1, 1], vectorA: true, vectorB: true, vectorC: true, batchChunks: 1 });
    const small = cuda.cudaPlanSgemm(1, 64, 10, 784, false, true, 'fp32', 132);
    expect(small).toMatchObject({ kernel: 'sgemm64x64', grid: [1, 1, 1], vectorA: true, vectorB: true, vectorC: false });
    // A is m x k with k = 13: rows are not 16-byte aligned.
    expect(cuda.cudaPlanSgemm(2, 100, 12, 13, false, false, 'fp32', 132)).toMatchObject({ vectorA: false, vectorB: true, vectorC: true, grid: [1, 2, 2] });
    // Transposed A (stored k x m) is read along m.
    expect(cuda.cudaPlanSgemm(1, 12, 8, 13, true, false, 'fp32', 132)).toMatchObject({ vectorA: true });
    expect(cuda.cudaPlanSgemm(1, 12, 8, 13, false, true, 'fp32', 132)).toMatchObject({ vectorB: false });
    expect(cuda.cudaPlanSgemm(200000, 4, 4, 4, false, false, 'fp32', 132)).toMatchObject({ grid: [1, 1, 65535], batchChunks: 4 });
    expect(cuda.cudaPlanSgemm(1, 100, 200, 50, false, false, 'tf32', 132)).toMatchObject({ kernel: 'wmma_tf32', grid: [4, 2, 1], block: [128, 1, 1] });
    expect(cuda.cudaPlanSgemm(1, 100, 200, 50, false, false, 'bf16', 132).kernel).toBe('wmma_bf16');
    expect(() => cuda.cudaPlanSgemm(1, 1, 1, 1, false, false, 'fp16' as never, 132)).toThrow("cudaPlanSgemm: expected 'fp32', 'tf32' or 'bf16' for precision but got 'fp16'");
  });

  it('conv2d: the implicit GEMM sizes of each pass, and split K for the filter gradient', () => {
    // 32 x 28 x 28 x 16 input, 3x3x16x32 filter, stride 1, 'same'.
    const geometry = [1, 1, 1, 1, 1, 1, 28, 28];
    const fwd = cuda.cudaPlanConv2d('forward', [32, 28, 28, 16], [3, 3, 16, 32], geometry, 132);
    expect(fwd).toMatchObject({ m: 32 * 28 * 28, n: 32, k: 144, grid: [392, 1, 1], workspaceFloats: 0 });
    const input = cuda.cudaPlanConv2d('input', [32, 28, 28, 16], [3, 3, 16, 32], geometry, 132);
    expect(input).toMatchObject({ m: 32 * 28 * 28, n: 16, k: 288, grid: [392, 1, 1] });
    const filter = cuda.cudaPlanConv2d('filter', [32, 28, 28, 16], [3, 3, 16, 32], geometry, 132);
    expect(filter.m).toBe(144);
    expect(filter.k).toBe(32 * 28 * 28);
    const splits = filter.grid[2];
    expect(splits).toBeGreaterThan(1);
    expect(filter.kPerSplit % 16).toBe(0);
    expect(filter.kPerSplit * splits).toBeGreaterThanOrEqual(filter.k);
    expect(filter.kPerSplit * (splits - 1)).toBeLessThan(filter.k);
    expect(filter.workspaceFloats).toBe(splits * 144 * 32);
    // Few output pixels: nothing to split.
    expect(cuda.cudaPlanConv2d('filter', [1, 3, 3, 1], [3, 3, 1, 1], [1, 1, 1, 1, 0, 0, 1, 1], 132)).toMatchObject({ grid: [1, 1, 1], workspaceFloats: 0 });
    expect(() => cuda.cudaPlanConv2d('forward', [1, 3, 3, 2], [3, 3, 1, 1], geometry, 132))
      .toThrow('cudaPlanConv2d: expected input channels 2 (x\'s last dimension) for filterShape but got [3,3,1,1]');
    expect(() => cuda.cudaPlanConv2d('forward', [1, 3, 3, 1], [3, 3, 1, 1], [1, 1, 1], 132)).toThrow(/expected 8 integers/);
  });

  it('reductions transpose only when the reduced axes are not innermost', () => {
    expect(cuda.cudaPlanReduce('float32', [2, 3, 4], [2])).toEqual({ perm: [], rows: 6, cols: 4, warpPerRow: true, workspaceBytes: 0 });
    expect(cuda.cudaPlanReduce('float32', [2, 3, 4], [0, 2])).toEqual({ perm: [1, 0, 2], rows: 3, cols: 8, warpPerRow: true, workspaceBytes: 96 });
    // Size-1 axes never force a transpose.
    expect(cuda.cudaPlanReduce('int32', [5, 1, 7], [1, 2]).perm).toEqual([]);
    expect(cuda.cudaPlanReduce('int32', [1, 5, 7], [0]).perm).toEqual([]);
    expect(cuda.cudaPlanReduce('float32', [4, 5000], [1]).warpPerRow).toBe(false);
    expect(cuda.cudaPlanReduce('float32', [0, 5], [1])).toMatchObject({ rows: 0, cols: 5, workspaceBytes: 0 });
    expect(() => cuda.cudaPlanReduce('float32', [2, 3], [2])).toThrow('reduce: expected distinct axes in [0, 2) for axes but got 2');
    expect(() => cuda.cudaPlanReduce('float32', [2, 3], [1, 1])).toThrow(/distinct axes/);
  });

  it('transposes merge dimensions that move together and tile swaps of the last two', () => {
    expect(cuda.cudaPlanTranspose([2, 3, 4], [0, 2, 1])).toEqual({ kind: 'tiled', shape: [2, 3, 4], perm: [0, 2, 1] });
    expect(cuda.cudaPlanTranspose([2, 3, 4, 5], [0, 3, 1, 2])).toEqual({ kind: 'tiled', shape: [2, 12, 5], perm: [0, 2, 1] });
    expect(cuda.cudaPlanTranspose([2, 3, 4], [2, 0, 1])).toEqual({ kind: 'tiled', shape: [6, 4], perm: [1, 0] });
    expect(cuda.cudaPlanTranspose([2, 3, 4], [1, 0, 2])).toEqual({ kind: 'general', shape: [2, 3, 4], perm: [1, 0, 2] });
    expect(cuda.cudaPlanTranspose([2, 1, 4], [1, 0, 2])).toEqual({ kind: 'copy', shape: [8], perm: [0] });
    expect(cuda.cudaPlanTranspose([], [])).toEqual({ kind: 'copy', shape: [], perm: [] });
    expect(() => cuda.cudaPlanTranspose([2, 3], [0, 0])).toThrow('transpose: expected a permutation of [0, 2) for perm but got axis 0');
  });

  it('MatMul batch dims: one matrix broadcast over the batch, or one per entry', () => {
    expect(matMulGeometry([2, 3, 4], [4, 5], false, false)).toEqual({ batch: 2, m: 3, n: 5, k: 4, aBatched: true, bBatched: false, outShape: [2, 3, 5] });
    expect(matMulGeometry([1, 3, 4], [2, 5, 4], false, true)).toEqual({ batch: 2, m: 3, n: 5, k: 4, aBatched: false, bBatched: true, outShape: [2, 3, 5] });
    expect(matMulGeometry([2, 1, 4, 3], [2, 1, 4, 5], true, false)).toMatchObject({ batch: 2, m: 3, n: 5, k: 4, outShape: [2, 1, 3, 5] });
    expect(matMulGeometry([2, 1, 3, 4], [1, 3, 4, 5], false, false)).toBeUndefined();  // [2, 1] x [1, 3]: a real broadcast
    expect(matMulGeometry([3, 4], [5, 6], false, false)).toBeUndefined();
  });
});

describe.skipIf(!built)('CUDA bindings check their arguments before touching a device', () => {
  it('names the op, the argument and what was expected', () => {
    const f = new Float32Array(4);
    expect(() => cuda.cudaMatMul(f as never, f as never, f as never, 1, 2, 2, 1, false, false, 0, 0, null, 'linear', 0.2, 'fp32'))
      .toThrow('cudaMatMul: expected a CUDA buffer (from cudaAlloc) for a but got a typed array (host memory)');
    expect(() => cuda.cudaBinary('Add', 1 as never, [1], 2 as never, [1], 3 as never)).toThrow('cudaBinary: expected a CUDA buffer (from cudaAlloc) for a but got the number 1');
    expect(() => cuda.cudaBinary('Nope', 1 as never, [1], 2 as never, [1], 3 as never)).toThrow(/Nope/);
    expect(() => cuda.cudaSoftmax(undefined as never, [2], undefined as never)).toThrow('cudaSoftmax: expected a CUDA buffer (from cudaAlloc) for logits but got undefined');
    expect(() => cuda.cudaFree({} as never)).toThrow('cudaFree: expected a CUDA buffer (from cudaAlloc) for buffer but got an object');
    expect(() => cuda.cudaAlloc(0, 'float64' as never, 4)).toThrow(/cudaAlloc: expected .* for dtype but got/);
    expect(() => cuda.cudaAlloc(0, 'float32', -1)).toThrow('cudaAlloc: expected a non-negative element count for length but got -1');
    expect(() => cuda.cudaCopyProbe(0, 0, 1)).toThrow(unavailableReason ?? 'cudaCopyProbe: expected a positive byte count for bytes but got 0');
  });
});
