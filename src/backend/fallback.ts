// The one generic adapter that makes every backend complete: any tfjs kernel Tessera does
// not run natively is registered for the Tessera backend with tfjs-backend-cpu's own
// implementation. That works because TesseraCpuBackend keeps MathBackendCPU's data model,
// so those kernels read and write its storage exactly as they would tfjs-backend-cpu's.
import '@tensorflow/tfjs-backend-cpu';
import { getKernel, getKernelsForBackend, registerKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';

import type { TesseraCpuBackend } from './backend_cpu.js';

/** Registers tfjs-backend-cpu's kernel for every kernel name `backendName` lacks; returns their names. */
export function registerFallbackKernels(backendName: string, nativeKernels: ReadonlySet<string>): string[] {
  const fallbacks: string[] = [];
  for (const config of getKernelsForBackend('cpu')) {
    if (nativeKernels.has(config.kernelName)) continue;
    registerKernel({ ...config, backendName, kernelFunc: deferringFrees(config.kernelFunc) } as KernelConfig);
    fallbacks.push(config.kernelName);
  }
  return fallbacks.sort();
}

function deferringFrees(kernelFunc: KernelFunc): KernelFunc {
  return (args) => (args.backend as TesseraCpuBackend).runFallback(() => kernelFunc(args));
}

/** tfjs-backend-cpu's implementation of `kernelName`, for native kernels to defer to on inputs they do not take (complex64, string). */
export function cpuKernel(kernelName: string): KernelFunc {
  const config = getKernel(kernelName, 'cpu');
  if (config === undefined) throw new Error(`tessera: tfjs-backend-cpu has no kernel ${kernelName} to fall back to`);
  return deferringFrees(config.kernelFunc);
}

/**
 * A tessera-cpu kernel: `run` when `runsNatively(args)` holds (inside runNative, so that
 * converted input views are freed), tfjs-backend-cpu's kernel otherwise.
 */
export function nativeKernelConfig(
  kernelName: string,
  runsNatively: (args: KernelArgs) => boolean,
  run: (args: KernelArgs, backend: TesseraCpuBackend) => KernelResult,
): KernelConfig {
  let fallback: KernelFunc | undefined;
  const kernelFunc = ((args: KernelArgs) => {
    const backend = args.backend as TesseraCpuBackend;
    if (!runsNatively(args)) {
      fallback ??= cpuKernel(kernelName);
      return fallback(args as never);
    }
    return backend.runNative(() => run(args, backend));
  }) as unknown as KernelFunc;
  return { kernelName, backendName: 'tessera-cpu', kernelFunc };
}

export type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };
export type KernelResult = TensorInfo | TensorInfo[];
