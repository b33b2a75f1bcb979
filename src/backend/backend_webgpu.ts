// The `tessera-webgpu` tfjs backend: tensors in GPU storage buffers of a WebGpuDevice (Dawn),
// kernels in WGSL (kernels/wgsl), and one fallback for every kernel without WGSL yet: its
// inputs are read back, the tessera-cpu kernel runs on them, and the outputs stay on the CPU
// until a GPU kernel needs them. Storage, residency, reads and the fallback are
// DeviceBackend's (device_backend.ts), shared with tessera-cuda.
//
// Where a tensor lives: `values` (a CPU copy) and `buffer` (a GPU copy) may both be set;
// at least one is. Data written by tfjs starts on the CPU and is uploaded on first GPU use;
// GPU kernel outputs exist on the GPU only until something reads them; a read keeps the CPU
// copy (tfjs tensors are immutable, so both stay valid). On the GPU, float32 is f32, int32 is
// i32 and bool is u32 (0 or 1); string and complex64 tensors live on the CPU only (complex64
// as two float32 parts, as in tfjs-backend-cpu).
import { backend_util, DataType, type BackendTimingInfo, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { DeviceBackend, deviceFallbackConfig, deviceKernelConfig, type KernelArgs, type KernelResult } from './device_backend.js';
import { GPU_ELEMENT_BYTES, WebGpuDevice, WebGpuError, type Program } from '../device/webgpu.js';

export const TESSERA_WEBGPU = 'tessera-webgpu';

/** Values as the 32-bit words the GPU holds for `dtype`. */
function toGpuWords(values: backend_util.BackendValues, dtype: DataType): Float32Array | Int32Array | Uint32Array {
  const v = values as ArrayLike<number>;
  if (dtype === 'float32') return v instanceof Float32Array ? v : Float32Array.from(v);
  if (dtype === 'int32') return v instanceof Int32Array ? v : Int32Array.from(v);
  // bool: any non-zero is true.
  const words = new Uint32Array(v.length);
  for (let i = 0; i < v.length; i++) words[i] = v[i] ? 1 : 0;
  return words;
}

/** GPU words back to tfjs's CPU array type for `dtype`. */
function fromGpuWords(bytes: ArrayBuffer, dtype: DataType, length: number): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'float32') return new Float32Array(bytes, 0, length);
  if (dtype === 'int32') return new Int32Array(bytes, 0, length);
  const words = new Uint32Array(bytes, 0, length);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = words[i] !== 0 ? 1 : 0;
  return out;
}

export class TesseraWebGpuBackend extends DeviceBackend<GPUBuffer> {
  protected readonly backendName = TESSERA_WEBGPU;
  private disposed = false;

  constructor(readonly device: WebGpuDevice) {
    super();
    // tfjs-backend-webgpu forwards small CPU-resident ops the same way (its threshold is 128).
    const handoff = Number(process.env.TESSERA_WEBGPU_CPU_HANDOFF ?? 128);
    this.cpuHandoffMaxElements = Number.isFinite(handoff) && handoff >= 0 ? handoff : 128;
  }

  // ---- the device side of DeviceBackend ----

  protected createBuffer(dtype: DataType, length: number): GPUBuffer {
    void dtype;
    return this.device.createBuffer(length * GPU_ELEMENT_BYTES);
  }

  protected releaseBuffer(buffer: GPUBuffer): void {
    this.device.releaseBuffer(buffer);
  }

  protected uploadValues(values: backend_util.BackendValues, dtype: DataType, length: number): GPUBuffer {
    const buffer = this.device.createBuffer(length * GPU_ELEMENT_BYTES);
    this.device.upload(buffer, toGpuWords(values, dtype));
    return buffer;
  }

  protected downloadSync(buffer: GPUBuffer, dtype: DataType, length: number): backend_util.BackendValues {
    return fromGpuWords(this.device.readSync(buffer, length * GPU_ELEMENT_BYTES), dtype, length);
  }

  protected async download(buffer: GPUBuffer, dtype: DataType, length: number): Promise<backend_util.BackendValues> {
    return fromGpuWords(await this.device.read(buffer, length * GPU_ELEMENT_BYTES), dtype, length);
  }

  protected error(message: string): Error {
    return new WebGpuError(message);
  }

  /** Whether the tensor's data is on the GPU now (no upload needed). */
  isOnGpu(t: TensorInfo): boolean {
    return this.isOnDevice(t);
  }

  /** The GPU buffer holding `t`, uploading its CPU values first if needed. */
  gpuBuffer(t: TensorInfo): GPUBuffer {
    return this.deviceBuffer(t);
  }

  // ---- kernels ----

  /**
   * Records `program` over the GPU buffers of `inputs` (bindings 0..n-1), writing a new
   * output tensor (binding n), with `uniforms` at binding n+1.
   */
  runProgram(program: Program, inputs: readonly TensorInfo[], outShape: number[], outDtype: DataType, uniforms: ArrayBufferView | null,
    workgroups: readonly [number, number?, number?]): TensorInfo {
    const buffers = inputs.map((t) => this.gpuBuffer(t));
    const out = this.makeOutput(outShape, outDtype);
    buffers.push(this.data.get(out.dataId).buffer!);
    try {
      this.device.dispatch(program, buffers, uniforms, workgroups);
    } catch (e) {
      this.disposeData(out.dataId);
      throw e;
    }
    return out;
  }

  // ---- the rest of KernelBackend ----

  override timerAvailable(): boolean {
    return true;
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = performance.now();
    f();
    await this.device.idle();
    const ms = performance.now() - start;
    return { kernelMs: ms };
  }

  override memory(): { unreliable: boolean; reasons: string[]; numBytesInGPU: number; numBytesInGPUAllocated: number; numBytesInGPUFree: number } {
    const s = this.device.stats();
    return { unreliable: false, reasons: [], numBytesInGPU: s.liveBytes, numBytesInGPUAllocated: s.liveBytes + s.pooledBytes, numBytesInGPUFree: s.pooledBytes };
  }

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.device.destroy();
  }
}

/**
 * A tessera-webgpu kernel: `run` returns the result, or null for inputs it does not take
 * (dtypes, attrs), which then run on tessera-cpu through runOnCpu.
 */
export function gpuKernelConfig(kernelName: string, run: (args: KernelArgs, backend: TesseraWebGpuBackend) => KernelResult | null): KernelConfig {
  return deviceKernelConfig<TesseraWebGpuBackend>(TESSERA_WEBGPU, kernelName, run);
}

/** The fallback for a kernel without WGSL: tessera-cpu's kernel, through runOnCpu. */
export function cpuFallbackConfig(kernelName: string): KernelConfig {
  return deviceFallbackConfig(TESSERA_WEBGPU, kernelName);
}

export type { KernelArgs as WebGpuKernelArgs, KernelResult as WebGpuKernelResult };
