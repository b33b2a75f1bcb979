// The `tessera-cpu` tfjs backend. It keeps tfjs-backend-cpu's data model (a DataStorage of
// flat typed arrays) so that every kernel not yet native can run tfjs-backend-cpu's own
// implementation unchanged (see fallback.ts); the difference is where the arrays live:
// numeric tensors are views of native, 64-byte aligned buffers owned by the addon, freed
// when tfjs disposes their data id.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { backend_util, DataType, engine, TensorInfo, util } from '@tensorflow/tfjs-core';

import { cpu } from '../device/cpu.js';
import { native, type NativeArray } from '../native.js';
import { DeviceArray, type DType } from '../kernels/array.js';
import { bufferPool } from '../device/buffer_pool.js';

type DataId = object;

interface TesseraTensorData {
  values?: backend_util.BackendValues;
  dtype: DataType;
  complexTensorInfos?: { real: TensorInfo; imag: TensorInfo };
  refCount: number;
  // The native buffer this entry owns. Tracked apart from `values` because a fallback
  // kernel may replace `values` with a JS array; the buffer must still be released.
  owned?: NativeArray;
  // Index of this entry in the backend's ownedEntries while it owns a buffer.
  slot?: number;
}

function isNativeDType(dtype: DataType): dtype is DType {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

let nextTesseraDataId = 0;

export class TesseraCpuBackend extends MathBackendCPU {
  // Every entry that owns a native buffer, so dispose() can free them all (DataStorage is a
  // WeakMap and cannot be walked). An array with swap-removal by slot, not a Set: a tiny op
  // adds and removes one, and a Set's hashing cost about 5% of a tiny op's time.
  private readonly ownedEntries: TesseraTensorData[] = [];

  private own(entry: TesseraTensorData): TesseraTensorData {
    entry.slot = this.ownedEntries.length;
    this.ownedEntries.push(entry);
    return entry;
  }

  private disown(entry: TesseraTensorData): void {
    const last = this.ownedEntries.pop()!;
    if (last !== entry) {
      this.ownedEntries[entry.slot!] = last;
      last.slot = entry.slot;
    }
    entry.slot = undefined;
  }

  // Arrays view() had to convert (see there), freed when the kernel that asked returns.
  private scratch: DeviceArray[] = [];
  // While a tfjs-backend-cpu kernel runs, frees wait until it returns: those kernels may
  // read an intermediate's values after disposing it, which is safe for garbage-collected
  // arrays and must stay safe for native ones.
  private fallbackDepth = 0;
  private deferredFrees: NativeArray[] = [];

  private entry(dataId: DataId): TesseraTensorData | undefined {
    return this.data.has(dataId) ? (this.data.get(dataId) as TesseraTensorData) : undefined;
  }

  /** Copies `values` into a new native buffer of `dtype` (or allocates one, zeroed by tfjs convention). */
  private toNative(values: backend_util.BackendValues | undefined | null, shape: number[], dtype: DType): NativeArray {
    const length = values == null ? util.sizeFromShape(shape) : values.length;
    const buffer = bufferPool.get(dtype, length);
    if (values != null) buffer.set(values as ArrayLike<number>);
    else buffer.fill(0);
    return buffer;
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = { id: nextTesseraDataId++ };
    this.store(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.store(dataId, values, shape, dtype, refCount);
  }

  private store(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    if (isNativeDType(dtype) && !(values != null && Array.isArray(values) && values.length > 0 && typeof values[0] !== 'number')) {
      const owned = this.toNative(values, shape, dtype);
      this.data.set(dataId, this.own({ values: owned, dtype, refCount, owned }) as never);
    } else {
      this.data.set(dataId, { values, dtype, refCount });
    }
  }

  /** Registers an array a native kernel produced as a tensor's storage, without a copy. */
  adopt(out: DeviceArray): TensorInfo {
    return this.adoptBuffer(out.data, [...out.shape], out.dtype);
  }

  /** Registers a buffer from native.alloc or bufferPool.get as a tensor's storage. */
  adoptBuffer(owned: NativeArray, shape: number[], dtype: DType): TensorInfo {
    const dataId = { id: nextTesseraDataId++ };
    this.data.set(dataId, this.own({ values: owned, dtype, refCount: 1, owned }) as never);
    return { dataId, shape, dtype };
  }

  /**
   * The typed array behind a tensor when it can be handed to a native kernel as is (stored
   * natively with the array type its dtype implies); undefined otherwise.
   */
  nativeValues(t: TensorInfo): NativeArray | undefined {
    const values = this.data.get(t.dataId).values;
    switch (t.dtype) {
      case 'float32': return values instanceof Float32Array ? values : undefined;
      case 'int32': return values instanceof Int32Array ? values : undefined;
      case 'bool': return values instanceof Uint8Array ? values : undefined;
      default: return undefined;
    }
  }

  /**
   * A DeviceArray view of a tensor's storage (the tensor keeps ownership). tfjs-backend-cpu's
   * Cast shares the input's data id when widening (bool or int32 read as float32), so the
   * stored array can be of another type than t.dtype; then the view is a converted copy
   * that lives until the running kernel returns (see runNative).
   */
  view(t: TensorInfo): DeviceArray {
    const values = this.data.get(t.dataId).values;
    if (!isNativeDType(t.dtype) || values == null || Array.isArray(values)) {
      throw new Error(`tessera-cpu: a tensor of dtype ${t.dtype} has no native view`);
    }
    const dtype = t.dtype;
    const matches = dtype === 'float32' ? values instanceof Float32Array : dtype === 'int32' ? values instanceof Int32Array : values instanceof Uint8Array;
    if (matches) return new DeviceArray(values as Float32Array, t.shape, dtype as 'float32', cpu, false);
    const converted = native.alloc(dtype, (values as ArrayLike<number>).length);
    converted.set(values as ArrayLike<number>);
    const copy = new DeviceArray(converted as Float32Array, t.shape, dtype as 'float32', cpu, true);
    this.scratch.push(copy);
    return copy;
  }

  /** Runs a native kernel body, then frees the converted views it asked for. */
  runNative<T>(body: () => T): T {
    const mark = this.scratch.length;
    try {
      return body();
    } finally {
      while (this.scratch.length > mark) this.scratch.pop()!.dispose();
    }
  }

  /** Runs a tfjs-backend-cpu kernel with frees deferred until it returns. */
  runFallback<T>(body: () => T): T {
    this.fallbackDepth++;
    try {
      return body();
    } finally {
      if (--this.fallbackDepth === 0) {
        for (const buffer of this.deferredFrees) bufferPool.put(buffer);
        this.deferredFrees = [];
      }
    }
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const entry = this.entry(dataId);
    // The caller gets a copy: the native buffer is freed on dispose, and a user may keep
    // the array from dataSync() much longer than the tensor.
    if (entry !== undefined && entry.owned !== undefined && entry.values === entry.owned) {
      return entry.owned.slice();
    }
    return super.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const entry = this.data.get(dataId) as TesseraTensorData;
    entry.refCount--;
    if (!force && entry.refCount > 0) return false;
    if (entry.complexTensorInfos != null) {
      this.disposeData(entry.complexTensorInfos.real.dataId, true);
      this.disposeData(entry.complexTensorInfos.imag.dataId, true);
    }
    if (entry.owned !== undefined) {
      this.disown(entry);
      if (this.fallbackDepth > 0) this.deferredFrees.push(entry.owned);
      else bufferPool.put(entry.owned);
    }
    this.data.delete(dataId);
    return true;
  }

  override memory(): { unreliable: boolean; reasons: string[]; nativeBuffers: number; nativeBytes: number } {
    const stats = native.bufferStats();
    return { unreliable: false, reasons: [], nativeBuffers: stats.liveBuffers, nativeBytes: stats.liveBytes };
  }

  override dispose(): void {
    for (const entry of this.ownedEntries) native.release(entry.owned!);
    this.ownedEntries.length = 0;
  }
}

export function activeTesseraCpu(): TesseraCpuBackend {
  const backend = engine().findBackend('tessera-cpu');
  if (!(backend instanceof TesseraCpuBackend)) throw new Error('tessera-cpu: backend is not registered');
  return backend;
}
