// The CUDA device (cuda:0..N) over the addon's bindings: device buffers from a caching
// allocator, uploads and downloads through pinned staging, asynchronous kernels on one
// stream per device (a download is the only wait). Absent hardware, driver or build support
// is reported with the reason (`cudaAvailability()`); opening a device then throws it.
import { native, type CudaAddon, type CudaBuffer, type CudaMemoryStats, type NativeArray, type NativeDType } from '../native.js';

export type { CudaBuffer, CudaMemoryStats };

export class CudaError extends Error {
  override name = 'CudaError';
}

export interface CudaAvailability {
  available: boolean;
  /** Why no device can be used; undefined when one can. */
  reason?: string;
  devices: { index: number; name: string; computeCapability: string; memoryBytes: number }[];
}

/** Whether CUDA devices can be used here, and which; never throws. */
export function cudaAvailability(): CudaAvailability {
  const info = native.cudaInfo();
  if (!info.built) return { available: false, reason: info.reason, devices: [] };
  return info.devices.length > 0 ? { available: true, devices: info.devices } : { available: false, reason: info.reason, devices: [] };
}

/** The CUDA half of the addon; throws the build's reason when it was built without CUDA. */
export function cudaAddon(): CudaAddon {
  const info = native.cudaInfo();
  if (!info.built) throw new CudaError(`tessera-cuda: ${info.reason}`);
  return native as unknown as CudaAddon;
}

/** A device index from 'cuda:N', 'cuda' (device 0) or N; throws naming what was expected. */
export function parseCudaDevice(spec: string | number): number {
  if (typeof spec === 'number') {
    if (Number.isInteger(spec) && spec >= 0) return spec;
  } else if (spec === 'cuda') {
    return 0;
  } else if (typeof spec === 'string') {
    const m = /^cuda:(\d+)$/.exec(spec);
    if (m !== null) return Number(m[1]);
  }
  throw new CudaError(`tessera-cuda: expected 'cuda', 'cuda:N' or a device index for device but got ${JSON.stringify(spec)}`);
}

const ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

export class CudaDevice {
  readonly kind = 'cuda';
  readonly name: string;
  readonly computeCapability: string;
  readonly memoryBytes: number;
  private readonly addon: CudaAddon;

  private constructor(readonly index: number, info: CudaAvailability['devices'][number]) {
    this.addon = cudaAddon();
    this.name = `cuda:${index} ${info.name}`;
    this.computeCapability = info.computeCapability;
    this.memoryBytes = info.memoryBytes;
  }

  /** Opens `spec` ('cuda:N', default cuda:0); throws the reason when it cannot be used. */
  static open(spec: string | number = 'cuda:0'): CudaDevice {
    const index = parseCudaDevice(spec);
    const availability = cudaAvailability();
    if (!availability.available) throw new CudaError(`tessera-cuda: ${availability.reason}`);
    const info = availability.devices[index];
    if (info === undefined) {
      throw new CudaError(`tessera-cuda: expected a device in cuda:0..cuda:${availability.devices.length - 1} but got cuda:${index}`);
    }
    return new CudaDevice(index, info);
  }

  /** The bindings, for kernels (they validate their own arguments). */
  get kernels(): CudaAddon {
    return this.addon;
  }

  /** An uninitialized buffer of `length` elements of `dtype` (bool: one byte each). */
  alloc(dtype: NativeDType, length: number): CudaBuffer {
    return this.addon.cudaAlloc(this.index, dtype, length);
  }

  /** Returns the buffer to the allocator's cache; false if it was freed already. */
  free(buffer: CudaBuffer): boolean {
    return this.addon.cudaFree(buffer);
  }

  /** Copies `values` (of the buffer's dtype and length) to the device; returns before the copy lands. */
  upload(buffer: CudaBuffer, values: NativeArray): void {
    this.addon.cudaUpload(buffer, values);
  }

  /** The buffer's contents, after every kernel enqueued before this call. */
  download(buffer: CudaBuffer): NativeArray {
    const { dtype, length } = this.addon.cudaBufferInfo(buffer);
    const out = new ARRAYS[dtype](length);
    this.addon.cudaDownload(buffer, out);
    return out;
  }

  /** The buffer's contents without blocking the event loop (the copy is enqueued at the call). */
  async downloadAsync(buffer: CudaBuffer): Promise<NativeArray> {
    const { dtype, length } = this.addon.cudaBufferInfo(buffer);
    const out = new ARRAYS[dtype](length);
    await this.addon.cudaDownloadAsync(buffer, out);
    return out;
  }

  /** Waits for every kernel and copy enqueued so far (errors inside kernels surface here). */
  sync(): void {
    this.addon.cudaSync(this.index);
  }

  stats(): CudaMemoryStats {
    return this.addon.cudaMemoryStats(this.index);
  }

  /** Releases the allocator's cached blocks to the driver. */
  trim(): void {
    this.addon.cudaTrim(this.index);
  }

  /** Buffers allocated and not freed: the leak check the tests use. */
  liveBuffers(): number {
    return this.stats().liveBuffers;
  }

  /** Median time of a device-to-device copy of `bytes` (the bandwidth ceiling for elementwise kernels). */
  copyMilliseconds(bytes: number, iterations = 20): number {
    return this.addon.cudaCopyProbe(this.index, bytes, iterations).milliseconds;
  }
}
