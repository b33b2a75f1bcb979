// Shared set-up for the tessera-webgpu tests: one probe for a WebGPU adapter per test file,
// and describeWebGpu(), which runs its suite on tessera-webgpu or skips it with the reason
// printed. With TESSERA_REQUIRE containing 'webgpu' (CI sets it), a missing adapter fails the
// file instead of skipping it, so a CI machine without Vulkan cannot pass silently.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, vi } from 'vitest';

import '../../src/index.js';
import { TESSERA_WEBGPU, type TesseraWebGpuBackend } from '../../src/backend/backend_webgpu.js';
import { WebGpuDevice } from '../../src/device/webgpu.js';

// The kernel tests check that kernels run on the GPU, on small inputs too: no CPU hand-off
// (device.test.ts tests the hand-off itself by setting it on the backend).
process.env.TESSERA_WEBGPU_CPU_HANDOFF = '0';

async function probe(): Promise<string | null> {
  try {
    const device = await WebGpuDevice.create();
    device.destroy();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Why tessera-webgpu cannot run here, or null when it can. */
export const unavailableReason: string | null = await probe();

const required = (process.env.TESSERA_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('webgpu');
if (unavailableReason !== null) {
  if (required) throw new Error(`TESSERA_REQUIRE includes webgpu but no WebGPU adapter opens: ${unavailableReason}`);
  console.log(`skipping tessera-webgpu tests: ${unavailableReason}`);
}

/** The active tessera-webgpu backend (inside a describeWebGpu suite). */
export function webgpuBackend(): TesseraWebGpuBackend {
  return tf.backend() as unknown as TesseraWebGpuBackend;
}

/** A suite run on tessera-webgpu (set as the tfjs backend around it), or skipped with the reason. */
export function describeWebGpu(name: string, fn: () => void): void {
  describe.skipIf(unavailableReason !== null)(name, () => {
    beforeAll(async () => {
      if (!(await tf.setBackend(TESSERA_WEBGPU))) throw new Error('tessera-webgpu did not initialize');
    });
    afterAll(async () => {
      await tf.setBackend('tessera-cpu');
    });
    fn();
  });
}

/** Runs `f` on tessera-cpu and returns its result's values (the reference for GPU kernels). */
export async function onCpu<T extends tf.Tensor>(f: () => T): Promise<{ values: tf.backend_util.TypedArray | string[]; shape: number[]; dtype: string }> {
  const previous = tf.getBackend();
  await tf.setBackend('tessera-cpu');
  try {
    const t = f();
    const result = { values: t.dataSync() as tf.backend_util.TypedArray, shape: t.shape, dtype: t.dtype };
    t.dispose();
    return result;
  } finally {
    await tf.setBackend(previous);
  }
}

/** Shader keys dispatched and kernels sent to tessera-cpu during the current test. */
export interface KernelLog {
  keys: string[];
  fallbacks: string[];
}

/**
 * Inside a describeWebGpu suite: before each test, empties `log` and records into it every
 * dispatch (its program key) and every fallback to tessera-cpu (its kernel name); after each
 * test, fails it if it left more live GPU buffers than it found.
 */
export function watchKernels(log: KernelLog): void {
  let liveBefore = 0;
  beforeEach(() => {
    const backend = webgpuBackend();
    liveBefore = backend.device.stats().liveBuffers;
    log.keys.length = 0;
    log.fallbacks.length = 0;
    const dispatch = backend.device.dispatch.bind(backend.device);
    vi.spyOn(backend.device, 'dispatch').mockImplementation((program, ...rest) => {
      log.keys.push(program.key);
      return dispatch(program, ...rest);
    });
    const runOnCpu = backend.runOnCpu.bind(backend);
    vi.spyOn(backend, 'runOnCpu').mockImplementation((name, args) => {
      log.fallbacks.push(name);
      return runOnCpu(name, args);
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    expect(webgpuBackend().device.stats().liveBuffers, 'live GPU buffers after the test').toBe(liveBefore);
  });
}
