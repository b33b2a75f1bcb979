// What every Tessera device backend (tessera-webgpu, tessera-cuda) shares: tensor storage
// with CPU and device residency, reference counts, complex64 and string tensors (CPU only),
// reads, and the one fallback mechanism for kernels without a device implementation.
//
// Where a tensor lives: `values` (a CPU copy) and `buffer` (a device copy) may both be set;
// at least one is. Data written by tfjs starts on the CPU and is uploaded on first device
// use; device kernel outputs exist on the device only until something reads them; a read
// keeps the CPU copy (tfjs tensors are immutable, so both stay valid). string and complex64
// tensors live on the CPU only (complex64 as two float32 parts, as in tfjs-backend-cpu).
//
// runOnCpu is the fallback: the inputs are read back (synchronously), the tessera-cpu kernel
// runs on them, and the outputs stay on the CPU until a device kernel needs them.
import {
  backend_util, DataStorage, DataType, engine, getKernel, KernelBackend, util,
  type DataId, type KernelConfig, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo,
} from '@tensorflow/tfjs-core';

import type { TesseraCpuBackend } from './backend_cpu.js';

export interface DeviceTensorData<Buffer> {
  dtype: DataType;
  /** Elements (for complex64: of each part). */
  length: number;
  values?: backend_util.BackendValues;
  buffer?: Buffer;
  refCount: number;
  complexTensorInfos?: { real: TensorInfo; imag: TensorInfo };
}

export type KernelArgs = { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown };
export type KernelResult = TensorInfo | TensorInfo[];

let nextDataId = 0;

/** The CPU array type tfjs uses for a numeric dtype. */
export function typedArrayFor(dtype: DataType, length: number): Float32Array | Int32Array | Uint8Array {
  return dtype === 'int32' ? new Int32Array(length) : dtype === 'bool' ? new Uint8Array(length) : new Float32Array(length);
}

export abstract class DeviceBackend<Buffer> extends KernelBackend {
  readonly data: DataStorage<DeviceTensorData<Buffer>>;
  private cpuBackend: TesseraCpuBackend | undefined;

  /** The tfjs backend name, for messages. */
  protected abstract readonly backendName: string;
  /** A device buffer for `length` elements of `dtype`, contents undefined. */
  protected abstract createBuffer(dtype: DataType, length: number): Buffer;
  protected abstract releaseBuffer(buffer: Buffer): void;
  /** A device buffer holding `values`. */
  protected abstract uploadValues(values: backend_util.BackendValues, dtype: DataType, length: number): Buffer;
  protected abstract downloadSync(buffer: Buffer, dtype: DataType, length: number): backend_util.BackendValues;
  protected abstract download(buffer: Buffer, dtype: DataType, length: number): Promise<backend_util.BackendValues>;
  /** The backend's error type (a message that already names the backend). */
  protected abstract error(message: string): Error;

  /**
   * Kernels whose inputs all sit on the CPU (not yet uploaded) and have at most this many
   * elements each run on tessera-cpu instead: a dispatch costs more than the arithmetic on a
   * few values, and the upload would be wasted. 0 turns the hand-off off (the tests of the
   * device kernels and the conformance runs do, so that they exercise the device code).
   */
  cpuHandoffMaxElements = 0;

  constructor() {
    super();
    this.data = new DataStorage(this, engine());
  }

  /** Whether a kernel on `inputs` goes to the CPU by the small-input rule above. */
  handsOffToCpu(inputs: NamedTensorInfoMap): boolean {
    const max = this.cpuHandoffMaxElements;
    if (max <= 0) return false;
    let any = false;
    for (const value of Object.values(inputs) as Array<TensorInfo | TensorInfo[] | null | undefined>) {
      if (value == null) continue;
      for (const t of Array.isArray(value) ? value : [value]) {
        const entry = this.data.get(t.dataId);
        if (entry.buffer !== undefined || entry.values === undefined || entry.length > max) return false;
        any = true;
      }
    }
    return any;
  }

  protected cpu(): TesseraCpuBackend {
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

  /** A new tensor whose storage is a fresh device buffer (contents undefined until a kernel writes them). */
  makeOutput(shape: number[], dtype: DataType): TensorInfo {
    if (dtype === 'string' || dtype === 'complex64') throw this.error(`${this.backendName}: a ${dtype} tensor cannot live on the GPU`);
    const length = util.sizeFromShape(shape);
    const buffer = this.createBuffer(dtype, length);
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
    if (entry.buffer !== undefined) this.releaseBuffer(entry.buffer);
    this.data.delete(dataId);
    return true;
  }

  disposeIntermediateTensorInfo(info: TensorInfo): void {
    this.disposeData(info.dataId);
  }

  /** Whether the tensor's data is on the device now (no upload needed). */
  isOnDevice(t: TensorInfo): boolean {
    return this.data.get(t.dataId).buffer !== undefined;
  }

  /** The device buffer holding `t`, uploading its CPU values first if needed. */
  deviceBuffer(t: TensorInfo): Buffer {
    const entry = this.data.get(t.dataId);
    if (entry.buffer !== undefined) return entry.buffer;
    if (entry.dtype === 'string' || entry.dtype === 'complex64') {
      throw this.error(`${this.backendName}: a ${entry.dtype} tensor cannot live on the GPU`);
    }
    entry.buffer = this.uploadValues(entry.values!, entry.dtype, entry.length);
    return entry.buffer;
  }

  /** The CPU values of `t` if it has a CPU copy now (nothing is read back). */
  cpuValues(t: TensorInfo): backend_util.BackendValues | undefined {
    return this.data.get(t.dataId).values;
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
    entry.values = this.downloadSync(entry.buffer!, entry.dtype, entry.length);
    return entry.values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    const entry = this.data.get(dataId);
    if (entry.values !== undefined) return entry.values;
    if (entry.complexTensorInfos !== undefined) {
      const [real, imag] = await Promise.all([this.read(entry.complexTensorInfos.real.dataId), this.read(entry.complexTensorInfos.imag.dataId)]);
      return backend_util.mergeRealAndImagArrays(real as Float32Array, imag as Float32Array);
    }
    const values = await this.download(entry.buffer!, entry.dtype, entry.length);
    // The tensor may have been disposed while the read was in flight; its values are still returned.
    if (this.data.has(dataId)) this.data.get(dataId).values = values;
    return values;
  }

  // ---- the fallback ----

  /**
   * Runs `kernelName` on tessera-cpu: the inputs are read back (synchronously), the outputs
   * come back as CPU-resident tensors of this backend.
   */
  runOnCpu(kernelName: string, args: KernelArgs): KernelResult {
    const config = getKernel(kernelName, 'tessera-cpu');
    if (config === undefined) throw this.error(`${this.backendName}: no kernel ${kernelName} on tessera-cpu to fall back to`);
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

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }
}

/**
 * A device kernel for `backendName`: `run` returns the result, or null for inputs it does not
 * take (dtypes, attrs), which then run on tessera-cpu through runOnCpu.
 */
export function deviceKernelConfig<B extends DeviceBackend<unknown>>(backendName: string, kernelName: string,
  run: (args: KernelArgs, backend: B) => KernelResult | null): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as B;
    if (backend.handsOffToCpu(args.inputs)) return backend.runOnCpu(kernelName, args);
    return run(args, backend) ?? backend.runOnCpu(kernelName, args);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as never };
}

/** The fallback for a kernel without a device implementation: tessera-cpu's kernel, through runOnCpu. */
export function deviceFallbackConfig(backendName: string, kernelName: string): KernelConfig {
  const kernelFunc = (args: KernelArgs) => (args.backend as DeviceBackend<unknown>).runOnCpu(kernelName, args);
  return { kernelName, backendName, kernelFunc: kernelFunc as never };
}
