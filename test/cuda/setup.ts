// Shared set-up for the tessera-cuda tests: one probe for a CUDA device per test file, and
// describeCuda(), which runs its suite on tessera-cuda or skips it with the reason printed.
// With TESSERA_REQUIRE containing 'cuda' (a GPU CI machine sets it), a missing device fails
// the file instead of skipping it, so a GPU runner without a driver cannot pass silently.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';

import '../../src/index.js';
import { TESSERA_CUDA, type TesseraCudaBackend } from '../../src/backend/backend_cuda.js';
import { cudaAvailability } from '../../src/device/cuda.js';

const availability = cudaAvailability();

/** Why tessera-cuda cannot run here, or null when it can. */
export const unavailableReason: string | null = availability.available ? null : availability.reason ?? 'no CUDA device';

const required = (process.env.TESSERA_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('cuda');
if (unavailableReason !== null) {
  if (required) throw new Error(`TESSERA_REQUIRE includes cuda but no CUDA device can be used: ${unavailableReason}`);
  console.log(`skipping tessera-cuda tests: ${unavailableReason}`);
}

/** The active tessera-cuda backend (inside a describeCuda suite). */
export function cudaBackend(): TesseraCudaBackend {
  return tf.backend() as unknown as TesseraCudaBackend;
}

/** A suite run on tessera-cuda (set as the tfjs backend around it), or skipped with the reason. */
export function describeCuda(name: string, fn: () => void): void {
  describe.skipIf(unavailableReason !== null)(name, () => {
    beforeAll(async () => {
      if (!(await tf.setBackend(TESSERA_CUDA))) throw new Error('tessera-cuda did not initialize');
    });
    afterAll(async () => {
      await tf.setBackend('tessera-cpu');
    });
    fn();
  });
}

/**
 * Asserts that a suite leaves exactly as many live device buffers (and tfjs tensors) as it
 * found: every output, workspace and upload was freed.
 */
export function checkCudaLeaks(): void {
  let buffers = 0;
  let tensors = 0;
  beforeAll(() => {
    buffers = cudaBackend().device.stats().liveBuffers;
    tensors = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors, 'tfjs tensors after the suite').toBe(tensors);
    expect(cudaBackend().device.stats().liveBuffers, 'live CUDA buffers after the suite').toBe(buffers);
  });
}

export interface Values {
  values: tf.backend_util.TypedArray;
  shape: number[];
  dtype: string;
}

/** Runs `f` on tessera-cpu and returns its result's values (the reference for CUDA kernels). */
export async function onCpu(f: () => tf.Tensor): Promise<Values> {
  return onBackend('tessera-cpu', f);
}

/** Runs `f` on `backend` (tensors created inside it live there) and returns the result's values. */
export async function onBackend(backend: string, f: () => tf.Tensor): Promise<Values> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const t = tf.tidy(f);
    const result = { values: t.dataSync() as tf.backend_util.TypedArray, shape: t.shape, dtype: t.dtype };
    t.dispose();
    return result;
  } finally {
    await tf.setBackend(previous);
  }
}

/** The kernels that ran through the CPU fallback while `f` ran on tessera-cuda. */
export function fallbacksDuring<T>(f: () => T): { result: T; fallbacks: string[] } {
  const backend = cudaBackend();
  const fallbacks: string[] = [];
  const runOnCpu = backend.runOnCpu;
  backend.runOnCpu = function (kernelName, args) {
    fallbacks.push(kernelName);
    return runOnCpu.call(this, kernelName, args);
  };
  try {
    return { result: f(), fallbacks };
  } finally {
    backend.runOnCpu = runOnCpu;
  }
}

/**
 * `f` on tessera-cuda and on tessera-cpu over the same inputs (made by `inputs` on each
 * backend from the same values): both results, for expectClose. Fails if any kernel on the
 * tessera-cuda side went through the CPU fallback, unless it is listed in `allowFallback`
 * ('any' for end-to-end computations that mix in kernels without CUDA code).
 */
export async function compareWithCpu(inputs: () => tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor,
  allowFallback: readonly string[] | 'any' = []): Promise<{ gpu: Values; cpu: Values }> {
  const cpu = await onCpu(() => f(...inputs()));
  const { result: gpu, fallbacks } = fallbacksDuring(() => {
    const t = tf.tidy(() => f(...inputs()));
    const values = { values: t.dataSync() as tf.backend_util.TypedArray, shape: t.shape, dtype: t.dtype };
    t.dispose();
    return values;
  });
  if (allowFallback !== 'any') expect(fallbacks.filter((k) => !allowFallback.includes(k)), 'kernels that fell back to the CPU').toEqual([]);
  expect(gpu.shape).toEqual(cpu.shape);
  expect(gpu.dtype).toBe(cpu.dtype);
  return { gpu, cpu };
}
