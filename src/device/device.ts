// The one interface every device implements. The CPU device lives in the addon; CUDA and
// WebGPU devices come with their own issues. A device that is not present says why
// (`available` false plus `reason`) and everything above it keeps working.
import type { NativeArray, NativeDType } from '../native.js';

export type DType = NativeDType;
export type DeviceKind = 'cpu' | 'cuda' | 'webgpu';

export interface Device {
  /** Which family of hardware this device drives. */
  readonly kind: DeviceKind;
  /** A human-readable name, e.g. `cpu (avx512, 2 threads)`. */
  readonly name: string;
  /** False where the hardware, driver or build support is missing. */
  readonly available: boolean;
  /** Why the device is unavailable; undefined when it is available. */
  readonly reason?: string;
  /** Allocates an uninitialized buffer of `length` elements of `dtype`. */
  allocate(dtype: DType, length: number): NativeArray;
  /** Releases a buffer from `allocate`; views of it read as empty afterwards. */
  free(buffer: NativeArray): void;
  /** Copies host values into a device buffer (converting numbers to the buffer's dtype). */
  upload(buffer: NativeArray, values: ArrayLike<number>): void;
  /** Copies a device buffer into a new host array the caller owns. */
  download(buffer: NativeArray): NativeArray;
  /** Whether the device runs `op` (a tfjs kernel name) natively. */
  supports(op: string): boolean;
  /** Buffers allocated and not yet freed: the leak check the tests use. */
  liveBuffers(): number;
}
