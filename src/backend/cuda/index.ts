// Registers the tessera-cuda tfjs backend. Its device opens when tfjs first initializes the
// backend (tf.setBackend('tessera-cuda')); without a usable device the factory throws the
// probe's reason, so setBackend fails with it and tfjs stays on its current backend.
import { getKernelsForBackend, registerBackend, registerKernel } from '@tensorflow/tfjs-core';

import { cudaFallbackConfig, TesseraCudaBackend, TESSERA_CUDA, type CudaBackendOptions } from '../backend_cuda.js';
import { CudaDevice, CudaError, parseCudaDevice } from '../../device/cuda.js';
import { CUDA_KERNELS } from './register_all_kernels.js';

// Below tessera-cpu, tfjs-backend-cpu and wasm, like tessera-webgpu: a GPU backend is chosen explicitly.
const PRIORITY = 0;

let options: CudaBackendOptions = {};

/**
 * Options for the next initialization of tessera-cuda: the device ('cuda:N') and MatMul's
 * precision. Call before tf.setBackend('tessera-cuda'), or after tf.removeBackend('tessera-cuda')
 * plus registerCudaBackend(). Throws for a malformed device or precision.
 */
export function configureCuda(next: CudaBackendOptions): void {
  if (next.device !== undefined) parseCudaDevice(next.device);
  if (next.matmulPrecision !== undefined && !['fp32', 'tf32', 'bf16'].includes(next.matmulPrecision)) {
    throw new CudaError(`tessera-cuda: expected 'fp32', 'tf32' or 'bf16' for matmulPrecision but got ${JSON.stringify(next.matmulPrecision)}`);
  }
  options = { ...next };
}

/** (Re-)registers the backend factory, e.g. after tf.removeBackend('tessera-cuda'). */
export function registerCudaBackend(): void {
  registerBackend(TESSERA_CUDA, () => new TesseraCudaBackend(CudaDevice.open(options.device ?? 'cuda:0'), options), PRIORITY);
}

const cudaKernels = new Set<string>();
const fallbackKernels: string[] = [];

/**
 * Registers the CUDA kernels, a tessera-cpu fallback for every other kernel tessera-cpu has
 * (so call it after tessera-cpu's kernels are registered), and the backend.
 */
export function registerCuda(cpuBackendName: string): void {
  for (const config of CUDA_KERNELS) {
    registerKernel(config);
    cudaKernels.add(config.kernelName);
  }
  for (const config of getKernelsForBackend(cpuBackendName)) {
    if (cudaKernels.has(config.kernelName)) continue;
    registerKernel(cudaFallbackConfig(config.kernelName));
    fallbackKernels.push(config.kernelName);
  }
  fallbackKernels.sort();
  registerCudaBackend();
}

/** Kernels tessera-cuda runs in CUDA, and those that run on tessera-cpu. */
export function cudaKernelCoverage(): { backend: string; native: string[]; fallback: string[]; fallbackTo: string } {
  return { backend: TESSERA_CUDA, native: [...cudaKernels].sort(), fallback: fallbackKernels, fallbackTo: 'tessera-cpu' };
}

export { TESSERA_CUDA, TesseraCudaBackend };
