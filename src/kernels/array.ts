// Typed device arrays: the direct kernel API's values. A DeviceArray either owns its buffer
// (made by `array`, `empty` or a kernel; free it with dispose()) or views storage that
// someone else owns (the tfjs backend's tensors), in which case dispose() is not for you.
import { cpu } from '../device/cpu.js';
import type { Device, DType } from '../device/device.js';

export type { DType };
export type ArrayFor<D extends DType> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint8Array;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class DeviceArray<D extends DType = DType> {
  #data: ArrayFor<D> | null;

  constructor(
    data: ArrayFor<D>,
    readonly shape: readonly number[],
    readonly dtype: D,
    readonly device: Device = cpu,
    /** Whether dispose() frees the buffer. */
    readonly owned = true,
  ) {
    this.#data = data;
  }

  /** The buffer; throws after dispose() so a stale array cannot read freed memory. */
  get data(): ArrayFor<D> {
    if (this.#data === null) throw new Error(`DeviceArray: used after dispose() (shape [${this.shape}], ${this.dtype})`);
    return this.#data;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get disposed(): boolean {
    return this.#data === null;
  }

  /** A host copy of the values. */
  toArray(): ArrayFor<D> {
    return this.device.download(this.data) as ArrayFor<D>;
  }

  dispose(): void {
    if (this.#data === null) return;
    if (this.owned) this.device.free(this.#data);
    this.#data = null;
  }
}

function checkShapeArg(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: expected an array of non-negative integers for shape but got ${JSON.stringify(shape)}`);
  }
}

function checkDTypeArg(op: string, dtype: string): asserts dtype is DType {
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new Error(`${op}: expected one of float32, int32, bool for dtype but got ${JSON.stringify(dtype)}`);
  }
}

/** An uninitialized array on `device`. */
export function empty<D extends DType = 'float32'>(shape: readonly number[], dtype: D = 'float32' as D, device: Device = cpu): DeviceArray<D> {
  checkShapeArg('empty', shape);
  checkDTypeArg('empty', dtype);
  return new DeviceArray(device.allocate(dtype, sizeOf(shape)) as ArrayFor<D>, [...shape], dtype, device);
}

/** An array holding `values` (numbers or booleans, flattened row-major) on `device`. */
export function array<D extends DType = 'float32'>(
  values: ArrayLike<number> | ArrayLike<boolean>,
  shape: readonly number[] = [values.length],
  dtype: D = 'float32' as D,
  device: Device = cpu,
): DeviceArray<D> {
  checkShapeArg('array', shape);
  checkDTypeArg('array', dtype);
  if (values.length !== sizeOf(shape)) {
    throw new Error(`array: expected ${sizeOf(shape)} values for shape [${shape}] but got ${values.length}`);
  }
  const out = empty(shape, dtype, device);
  device.upload(out.data, Array.from(values as ArrayLike<number>, Number));
  return out;
}
