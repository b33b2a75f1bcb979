// Registers the tessera-webgpu tfjs backend. Its device opens when tfjs first initializes
// the backend (tf.setBackend('tessera-webgpu')), so importing tessera loads no Dawn.
import { getKernelsForBackend, registerBackend, registerKernel } from '@tensorflow/tfjs-core';

import { cpuFallbackConfig, TesseraWebGpuBackend, TESSERA_WEBGPU } from '../backend_webgpu.js';
import { WebGpuDevice, type WebGpuOptions } from '../../device/webgpu.js';
import { WEBGPU_KERNELS } from './register_all_kernels.js';

// Below tessera-cpu, tfjs-backend-cpu and wasm: a GPU backend is chosen explicitly (on a
// machine without a GPU, Dawn would pick a software rasterizer).
const PRIORITY = 0;

let options: WebGpuOptions = {};

/**
 * Options for the device tessera-webgpu opens (adapter, power preference, Dawn backend).
 * Takes effect at the next initialization: call before tf.setBackend('tessera-webgpu'), or
 * after tf.removeBackend('tessera-webgpu') plus registerWebGpuBackend().
 */
export function configureWebGpu(next: WebGpuOptions): void {
  options = { ...next };
}

/** (Re-)registers the backend factory, e.g. after tf.removeBackend('tessera-webgpu'). */
export function registerWebGpuBackend(): void {
  registerBackend(TESSERA_WEBGPU, async () => new TesseraWebGpuBackend(await WebGpuDevice.create(options)), PRIORITY);
}

const gpuKernels = new Set<string>();
const fallbackKernels: string[] = [];

/**
 * Registers the WGSL kernels, a tessera-cpu fallback for every other kernel tessera-cpu
 * has (so call it after tessera-cpu's kernels are registered), and the backend.
 */
export function registerWebGpu(cpuBackendName: string): void {
  for (const config of WEBGPU_KERNELS) {
    registerKernel(config);
    gpuKernels.add(config.kernelName);
  }
  for (const config of getKernelsForBackend(cpuBackendName)) {
    if (gpuKernels.has(config.kernelName)) continue;
    registerKernel(cpuFallbackConfig(config.kernelName));
    fallbackKernels.push(config.kernelName);
  }
  fallbackKernels.sort();
  registerWebGpuBackend();
}

/** Kernels tessera-webgpu runs in WGSL, and those that run on tessera-cpu. */
export function webGpuKernelCoverage(): { backend: string; native: string[]; fallback: string[]; fallbackTo: string } {
  return { backend: TESSERA_WEBGPU, native: [...gpuKernels].sort(), fallback: fallbackKernels, fallbackTo: 'tessera-cpu' };
}

export { TESSERA_WEBGPU, TesseraWebGpuBackend };
