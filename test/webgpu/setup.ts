// Shared set-up for the tessera-webgpu tests: one probe for a WebGPU adapter per test file,
// and describeWebGpu(), which runs its suite on tessera-webgpu or skips it with the reason
// printed. With TESSERA_REQUIRE containing 'webgpu' (CI sets it), a missing adapter fails the
// file instead of skipping it, so a CI machine without Vulkan cannot pass silently.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe } from 'vitest';

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
