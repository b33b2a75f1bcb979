// Registers the tessera-cpu tfjs backend: native kernels first, then the fallbacks.
import { registerBackend } from '@tensorflow/tfjs-core';

import { TesseraCpuBackend } from './backend_cpu.js';
import { registerFallbackKernels } from './fallback.js';
import { registerNativeKernels } from './register_all_kernels.js';
import { cudaKernelCoverage, registerCuda } from './cuda/index.js';
import { registerWebGpu, webGpuKernelCoverage } from './webgpu/index.js';

export const TESSERA_CPU = 'tessera-cpu';
// Above tfjs-backend-cpu (1) and tfjs-backend-wasm (2): importing tessera makes it the default.
const PRIORITY = 3;

const nativeKernels = registerNativeKernels();
const fallbackKernels = registerFallbackKernels(TESSERA_CPU, nativeKernels);
registerBackend(TESSERA_CPU, () => new TesseraCpuBackend(), PRIORITY);
registerWebGpu(TESSERA_CPU);
registerCuda(TESSERA_CPU);

export interface KernelCoverage {
  backend: string;
  /** Kernels with Tessera's own implementation on this backend (native code, or WGSL). */
  native: string[];
  /** Kernels that run elsewhere, through the backend's one fallback mechanism. */
  fallback: string[];
  /** Where the fallback kernels run. */
  fallbackTo: string;
}

/** Which tfjs kernels each Tessera backend runs natively and which fall back. */
export function kernelCoverage(): KernelCoverage[] {
  return [{ backend: TESSERA_CPU, native: [...nativeKernels].sort(), fallback: fallbackKernels, fallbackTo: 'tfjs-backend-cpu' }, webGpuKernelCoverage(), cudaKernelCoverage()];
}

export { TesseraCpuBackend };
export { configureCuda, registerCudaBackend, TESSERA_CUDA, TesseraCudaBackend } from './cuda/index.js';
export { configureWebGpu, registerWebGpuBackend, TESSERA_WEBGPU, TesseraWebGpuBackend } from './webgpu/index.js';
