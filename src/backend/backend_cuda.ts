// The `tessera-cuda` tfjs backend: tensors in device buffers of a CudaDevice (cuda:N), custom
// CUDA kernels (kernels/cuda) enqueued asynchronously on the device's stream, and the one
// fallback of DeviceBackend (device_backend.ts) for every kernel without a CUDA kernel: its
// inputs are read back, tessera-cpu runs it, the outputs stay on the CPU until a CUDA kernel
// needs them. On the device, float32 and int32 take 4 bytes per element and bool 1 (0 or 1),
// the CPU layouts, so transfers copy bytes without conversion.
import { backend_util, DataType, type BackendTimingInfo, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { DeviceBackend, deviceFallbackConfig, deviceKernelConfig, type KernelArgs, type KernelResult } from './device_backend.js';
import { CudaDevice, CudaError, type CudaBuffer, type CudaMemoryStats } from '../device/cuda.js';
import type { GemmPrecision, NativeArray, NativeDType } from '../native.js';

export const TESSERA_CUDA = 'tessera-cuda';

export interface CudaBackendOptions {
  /** 'cuda:N' (default 'cuda:0'). */
  device?: string | number;
  /**
   * MatMul's arithmetic: 'fp32' (default, exact float32 products and sums), or the tensor
   * cores with inputs rounded to 'tf32' (10-bit mantissa) or 'bf16' (7-bit), fp32 accumulation.
   */
  matmulPrecision?: GemmPrecision;
}

const ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

function asNative(values: backend_util.BackendValues, dtype: DataType): NativeArray {
  const type = ARRAYS[dtype as NativeDType];
  return values instanceof type ? values : type.from(values as ArrayLike<number>);
}

export class TesseraCudaBackend extends DeviceBackend<CudaBuffer> {
  protected readonly backendName = TESSERA_CUDA;
  readonly matmulPrecision: GemmPrecision;
  private disposed = false;

  constructor(readonly device: CudaDevice, options: CudaBackendOptions = {}) {
    super();
    this.matmulPrecision = options.matmulPrecision ?? 'fp32';
  }

  protected createBuffer(dtype: DataType, length: number): CudaBuffer {
    return this.device.alloc(dtype as NativeDType, length);
  }

  protected releaseBuffer(buffer: CudaBuffer): void {
    this.device.free(buffer);
  }

  protected uploadValues(values: backend_util.BackendValues, dtype: DataType, length: number): CudaBuffer {
    const buffer = this.device.alloc(dtype as NativeDType, length);
    try {
      this.device.upload(buffer, asNative(values, dtype));
    } catch (e) {
      this.device.free(buffer);
      throw e;
    }
    return buffer;
  }

  protected downloadSync(buffer: CudaBuffer): backend_util.BackendValues {
    return this.device.download(buffer);
  }

  // The copy is enqueued now; the wait for it runs off the JS thread.
  protected download(buffer: CudaBuffer): Promise<backend_util.BackendValues> {
    return this.device.downloadAsync(buffer);
  }

  protected error(message: string): Error {
    return new CudaError(message);
  }

  /** The CUDA buffer of `t` (uploading its CPU values first if needed). */
  cudaBuffer(t: TensorInfo): CudaBuffer {
    return this.deviceBuffer(t);
  }

  /**
   * A new device tensor of `outShape`, written by `launch` (which enqueues kernels on the
   * buffers it is given); the output is released if the launch throws.
   */
  launch(outShape: number[], outDtype: DataType, launch: (out: CudaBuffer) => void): TensorInfo {
    const out = this.makeOutput(outShape, outDtype);
    try {
      launch(this.data.get(out.dataId).buffer!);
    } catch (e) {
      this.disposeData(out.dataId);
      throw e;
    }
    return out;
  }

  override timerAvailable(): boolean {
    return true;
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = performance.now();
    f();
    this.device.sync();
    return { kernelMs: performance.now() - start };
  }

  /** The device allocator's figures: live bytes in tensors (and workspaces), cached bytes for reuse. */
  override memory(): { unreliable: boolean; reasons: string[]; numBytesInGPU: number; numBytesInGPUAllocated: number; numBytesInGPUFree: number } & { cuda: CudaMemoryStats } {
    const s = this.device.stats();
    return { unreliable: false, reasons: [], numBytesInGPU: s.liveBytes, numBytesInGPUAllocated: s.liveBytes + s.cachedBytes, numBytesInGPUFree: s.cachedBytes, cuda: s };
  }

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.device.sync();
  }
}

/**
 * A tessera-cuda kernel: `run` returns the result, or null for inputs it does not take
 * (dtypes, attrs, ranks), which then run on tessera-cpu through runOnCpu.
 */
export function cudaKernelConfig(kernelName: string, run: (args: KernelArgs, backend: TesseraCudaBackend) => KernelResult | null): KernelConfig {
  return deviceKernelConfig<TesseraCudaBackend>(TESSERA_CUDA, kernelName, run);
}

/** The fallback for a kernel without a CUDA kernel: tessera-cpu's kernel, through runOnCpu. */
export function cudaFallbackConfig(kernelName: string): KernelConfig {
  return deviceFallbackConfig(TESSERA_CUDA, kernelName);
}

export type { KernelArgs as CudaKernelArgs, KernelResult as CudaKernelResult };
