// The `tessera-webgpu` tfjs backend: tensors in GPU storage buffers of a WebGpuDevice (Dawn),
// kernels in WGSL (kernels/wgsl), and one fallback for every kernel without WGSL yet: its
// inputs are read back, the tessera-cpu kernel runs on them, and the outputs stay on the CPU
// until a GPU kernel needs them.
//
// Where a tensor lives: `values` (a CPU copy) and `buffer` (a GPU copy) may both be set;
// at least one is. Data written by tfjs starts on the CPU and is uploaded on first GPU use;
// GPU kernel outputs exist on the GPU only until something reads them; a read keeps the CPU
// copy (tfjs tensors are immutable, so both stay valid). On the GPU, float32 is f32, int32 is
// i32 and bool is u32 (0 or 1); string and complex64 tensors live on the CPU only (complex64
// as two float32 parts, as in tfjs-backend-cpu).
import {
  backend_util, DataStorage, DataType, engine, getKernel, KernelBackend, util,
  type BackendTimingInfo, type DataId, type KernelConfig, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo,
} from '@tensorflow/tfjs-core';

import type { TesseraCpuBackend } from './backend_cpu.js';
import { GPU_ELEMENT_BYTES, WebGpuDevice, WebGpuError, type Program } from '../device/webgpu.js';

export const TESSERA_WEBGPU = 'tessera-webgpu';

interface GpuTensorData {
  dtype: DataType;
  /** Elements (for complex64: of each part). */
  length: number;
  values?: backend_util.BackendValues;
  buffer?: GPUBuffer;
  refCount: number;
  complexTensorInfos?: { real: TensorInfo; imag: TensorInfo };
}

type KernelArgs = { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown };
type KernelResult = TensorInfo | TensorInfo[];

let nextDataId = 0;

/** The CPU array type tfjs uses for a numeric dtype. */
function typedArrayFor(dtype: DataType, length: number): Float32Array | Int32Array | Uint8Array {
  return dtype === 'int32' ? new Int32Array(length) : dtype === 'bool' ? new Uint8Array(length) : new Float32Array(length);
}

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

export class TesseraWebGpuBackend extends KernelBackend {
  readonly data: DataStorage<GpuTensorData>;
  private cpuBackend: TesseraCpuBackend | undefined;
  private disposed = false;

  constructor(readonly device: WebGpuDevice) {
    super();
    this.data = new DataStorage(this, engine());
  }

  private cpu(): TesseraCpuBackend {
    this.cpuBackend ??= engine().findBackend('tessera-cpu') as TesseraCpuBackend;
    return this.cpuBackend;
  }

  // ---- storage ----

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = { id: nextDataId++ };
    this.data.set(dataId, { dtype, length: values.length, values, refCount: 1 });
    void shape;
    return dataId;
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.data.set(dataId, { dtype, length: values == null ? util.sizeFromShape(shape) : values.length, values: values ?? typedArrayFor(dtype, util.sizeFromShape(shape)), refCount });
  }

  /** A tensor of `shape` holding `values` (zeros if none) on the CPU side. */
  makeTensorInfo(shape: number[], dtype: DataType, values?: backend_util.BackendValues): TensorInfo {
    const size = util.sizeFromShape(shape);
    const data = values ?? (dtype === 'string' ? (new Array(size).fill('') as unknown as backend_util.BackendValues) : typedArrayFor(dtype, size));
    return { dataId: this.write(data, shape, dtype), shape, dtype };
  }

  /** A new tensor whose storage is a fresh GPU buffer (contents undefined until a kernel writes them). */
  makeOutput(shape: number[], dtype: DataType): TensorInfo {
    if (dtype === 'string' || dtype === 'complex64') throw new WebGpuError(`tessera-webgpu: a ${dtype} tensor cannot live on the GPU`);
    const length = util.sizeFromShape(shape);
    const buffer = this.device.createBuffer(length * GPU_ELEMENT_BYTES);
    const dataId = { id: nextDataId++ };
    this.data.set(dataId, { dtype, length, buffer, refCount: 1 });
    return { dataId, shape, dtype };
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const entry = this.data.get(dataId);
    entry.refCount--;
    if (!force && entry.refCount > 0) return false;
    if (entry.complexTensorInfos !== undefined) {
      this.disposeData(entry.complexTensorInfos.real.dataId, true);
      this.disposeData(entry.complexTensorInfos.imag.dataId, true);
    }
    if (entry.buffer !== undefined) this.device.releaseBuffer(entry.buffer);
    this.data.delete(dataId);
    return true;
  }

  disposeIntermediateTensorInfo(info: TensorInfo): void {
    this.disposeData(info.dataId);
  }

  /** Whether the tensor's data is on the GPU now (no upload needed). */
  isOnGpu(t: TensorInfo): boolean {
    return this.data.get(t.dataId).buffer !== undefined;
  }

  /** The GPU buffer holding `t`, uploading its CPU values first if needed. */
  gpuBuffer(t: TensorInfo): GPUBuffer {
    const entry = this.data.get(t.dataId);
    if (entry.buffer !== undefined) return entry.buffer;
    if (entry.dtype === 'string' || entry.dtype === 'complex64') {
      throw new WebGpuError(`tessera-webgpu: a ${entry.dtype} tensor cannot live on the GPU`);
    }
    const buffer = this.device.createBuffer(entry.length * GPU_ELEMENT_BYTES);
    this.device.upload(buffer, toGpuWords(entry.values!, entry.dtype));
    entry.buffer = buffer;
    return buffer;
  }

  // ---- reads ----

  override readSync(dataId: DataId): backend_util.BackendValues {
    const entry = this.data.get(dataId);
    if (entry.values !== undefined) return entry.values;
    if (entry.complexTensorInfos !== undefined) {
      const real = this.readSync(entry.complexTensorInfos.real.dataId) as Float32Array;
      const imag = this.readSync(entry.complexTensorInfos.imag.dataId) as Float32Array;
      return backend_util.mergeRealAndImagArrays(real, imag);
    }
    const bytes = this.device.readSync(entry.buffer!, entry.length * GPU_ELEMENT_BYTES);
    entry.values = fromGpuWords(bytes, entry.dtype, entry.length);
    return entry.values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    const entry = this.data.get(dataId);
    if (entry.values !== undefined) return entry.values;
    if (entry.complexTensorInfos !== undefined) {
      const [real, imag] = await Promise.all([this.read(entry.complexTensorInfos.real.dataId), this.read(entry.complexTensorInfos.imag.dataId)]);
      return backend_util.mergeRealAndImagArrays(real as Float32Array, imag as Float32Array);
    }
    const buffer = entry.buffer!;
    const bytes = await this.device.read(buffer, entry.length * GPU_ELEMENT_BYTES);
    // The tensor may have been disposed while the read was in flight; its values are still returned.
    const values = fromGpuWords(bytes, entry.dtype, entry.length);
    if (this.data.has(dataId)) this.data.get(dataId).values = values;
    return values;
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

  /**
   * Runs `kernelName` on tessera-cpu: the inputs are read back (synchronously), the outputs
   * come back as CPU-resident tensors of this backend.
   */
  runOnCpu(kernelName: string, args: KernelArgs): KernelResult {
    const config = getKernel(kernelName, 'tessera-cpu');
    if (config === undefined) throw new WebGpuError(`tessera-webgpu: no kernel ${kernelName} on tessera-cpu to fall back to`);
    const cpu = this.cpu();
    const temps: TensorInfo[] = [];
    const mine = new Map<DataId, TensorInfo>();
    // Inputs are named tensors, or arrays of them (Concat, AddN, the ragged kernels); for
    // some kernels `inputs` itself is an array.
    const convert = (t: TensorInfo | TensorInfo[] | null | undefined): TensorInfo | TensorInfo[] | null | undefined => {
      if (t == null) return t;
      if (Array.isArray(t)) return t.map((x) => convert(x) as TensorInfo);
      const c = this.toCpu(t);
      temps.push(c);
      mine.set(c.dataId, t);
      return c;
    };
    try {
      const cpuInputs = (Array.isArray(args.inputs) ? [] : {}) as Record<string, unknown>;
      for (const [name, t] of Object.entries(args.inputs)) cpuInputs[name] = convert(t as TensorInfo | TensorInfo[]);
      const result = config.kernelFunc({ inputs: cpuInputs as NamedTensorInfoMap, attrs: args.attrs ?? {}, backend: cpu } as never) as KernelResult;
      const outs = Array.isArray(result) ? result : [result];
      const converted = outs.map((o) => {
        const input = mine.get(o.dataId);
        let info: TensorInfo;
        if (input !== undefined) {
          // The kernel returned an input's storage (Identity, Reshape): hand back ours.
          this.incRef(input.dataId);
          info = { dataId: input.dataId, shape: o.shape, dtype: o.dtype };
        } else {
          info = this.fromCpu(o);
        }
        cpu.disposeData(o.dataId);
        return info;
      });
      return Array.isArray(result) ? converted : converted[0];
    } finally {
      for (const t of temps) cpu.disposeData(t.dataId);
    }
  }

  private toCpu(t: TensorInfo): TensorInfo {
    const cpu = this.cpu();
    const entry = this.data.get(t.dataId);
    if (entry.complexTensorInfos !== undefined) {
      const real = this.toCpu(entry.complexTensorInfos.real);
      const imag = this.toCpu(entry.complexTensorInfos.imag);
      try {
        const complex = getKernel('Complex', 'tessera-cpu')!.kernelFunc({ inputs: { real, imag }, attrs: {}, backend: cpu } as never) as TensorInfo;
        return { dataId: complex.dataId, shape: t.shape, dtype: t.dtype };
      } finally {
        cpu.disposeData(real.dataId);
        cpu.disposeData(imag.dataId);
      }
    }
    // rank too: a few tfjs-backend-cpu kernels read it, as the engine hands them Tensors.
    return { dataId: cpu.write(this.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype, rank: t.shape.length } as TensorInfo;
  }

  private fromCpu(o: TensorInfo): TensorInfo {
    const cpu = this.cpu();
    if (o.dtype === 'complex64') {
      const parts = (cpu.data.get(o.dataId) as { complexTensorInfos?: { real: TensorInfo; imag: TensorInfo } }).complexTensorInfos!;
      const real = this.fromCpu(parts.real);
      const imag = this.fromCpu(parts.imag);
      const dataId = { id: nextDataId++ };
      this.data.set(dataId, { dtype: 'complex64', length: util.sizeFromShape(o.shape), refCount: 1, complexTensorInfos: { real, imag } });
      return { dataId, shape: o.shape, dtype: o.dtype };
    }
    // tessera-cpu hands out a copy of native storage, so the array is ours to keep.
    const values = cpu.readSync(o.dataId);
    return { dataId: this.write(values, o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
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

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
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
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as TesseraWebGpuBackend;
    return run(args, backend) ?? backend.runOnCpu(kernelName, args);
  };
  return { kernelName, backendName: TESSERA_WEBGPU, kernelFunc: kernelFunc as never };
}

/** The fallback for a kernel without WGSL: tessera-cpu's kernel, through runOnCpu. */
export function cpuFallbackConfig(kernelName: string): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    return (args.backend as TesseraWebGpuBackend).runOnCpu(kernelName, args);
  };
  return { kernelName, backendName: TESSERA_WEBGPU, kernelFunc: kernelFunc as never };
}

export type { KernelArgs as WebGpuKernelArgs, KernelResult as WebGpuKernelResult };
