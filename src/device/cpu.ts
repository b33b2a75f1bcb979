// The CPU device: host buffers owned by the addon (64-byte aligned), kernels in native/cpu.
import { native, type NativeArray } from '../native.js';
import { bufferPool } from './buffer_pool.js';
import type { Device, DType } from './device.js';

const NATIVE_CPU_OPS = new Set<string>();

/** Records that the CPU device runs `op` natively (called by each kernel module). */
export function declareCpuOp(op: string): void {
  NATIVE_CPU_OPS.add(op);
}

class CpuDevice implements Device {
  readonly kind = 'cpu' as const;
  readonly available = true;
  readonly reason = undefined;

  get name(): string {
    return `cpu (${native.buildInfo().isa}, ${native.numThreads()} threads)`;
  }

  allocate(dtype: DType, length: number): NativeArray {
    // Small buffers come from the pool the tfjs backend fills with the storage of disposed
    // tensors; what a DeviceArray frees is detached and released, never pooled (its owner
    // may still hold the typed array).
    return bufferPool.get(dtype, length);
  }

  free(buffer: NativeArray): void {
    native.release(buffer);
  }

  upload(buffer: NativeArray, values: ArrayLike<number>): void {
    if (values.length !== buffer.length) {
      throw new Error(`upload: expected ${buffer.length} values for buffer but got ${values.length}`);
    }
    buffer.set(values);
  }

  download(buffer: NativeArray): NativeArray {
    return buffer.slice();
  }

  supports(op: string): boolean {
    return NATIVE_CPU_OPS.has(op);
  }

  liveBuffers(): number {
    return native.bufferStats().liveBuffers;
  }
}

export const cpu: Device = new CpuDevice();

/** The kernels the CPU device runs natively, sorted. */
export function nativeCpuOps(): string[] {
  return [...NATIVE_CPU_OPS].sort();
}
