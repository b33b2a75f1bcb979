// Small tensor buffers recycled in JS. Creating a native buffer costs about 1-2 µs (an
// external ArrayBuffer plus its typed array) and releasing one about 0.5 µs, which would
// make every tiny tfjs op several times dearer than on tfjs-backend-cpu; handing back a
// recently freed buffer of the same size costs a few tens of ns.
//
// Only tensor storage owned by the tfjs backend goes through here. That storage never
// escapes: reads hand out copies, and tfjs-backend-cpu kernels get their frees deferred
// until they return. So a recycled buffer is never seen through a stale reference, and it
// need not be detached the way DeviceArray.dispose() detaches.
import { native, type NativeArray, type NativeDType } from '../native.js';

// Up to 4 KiB per buffer and 64 buffers per size: at most a few MiB held.
const MAX_POOLED_LENGTH = 1024;
const MAX_PER_SIZE = 64;

type FreeLists = NativeArray[][];

class BufferPool {
  private readonly lists: Record<NativeDType, FreeLists> = { float32: [], int32: [], bool: [] };
  private pooled = 0;

  /** A buffer of `length` elements of `dtype`: recycled if one is free, otherwise new. Contents undefined. */
  get(dtype: NativeDType, length: number): NativeArray {
    if (length > 0 && length <= MAX_POOLED_LENGTH) {
      const list = this.lists[dtype][length];
      if (list !== undefined && list.length > 0) {
        this.pooled--;
        return list.pop()!;
      }
    }
    return native.alloc(dtype, length);
  }

  /** Takes back a buffer from get() (or native.alloc) that nothing references any more. */
  put(buffer: NativeArray): void {
    const length = buffer.length;
    if (length > 0 && length <= MAX_POOLED_LENGTH) {
      const dtype: NativeDType = buffer instanceof Float32Array ? 'float32' : buffer instanceof Int32Array ? 'int32' : 'bool';
      const lists = this.lists[dtype];
      const list = (lists[length] ??= []);
      if (list.length < MAX_PER_SIZE) {
        list.push(buffer);
        this.pooled++;
        return;
      }
    }
    native.release(buffer);
  }

  /** Native buffers currently held for reuse (live natively, owned by no tensor). */
  get size(): number {
    return this.pooled;
  }

  /** Releases every pooled buffer to the addon. */
  drain(): void {
    for (const lists of Object.values(this.lists)) {
      for (const list of lists) {
        if (list === undefined) continue;
        for (const buffer of list) native.release(buffer);
        list.length = 0;
      }
    }
    this.pooled = 0;
  }
}

export const bufferPool = new BufferPool();

/** Releases the small buffers the tfjs backends keep for reuse (for exact live-buffer counts). */
export function drainBufferPool(): void {
  bufferPool.drain();
}

/** Native buffers that hold tensor data or DeviceArrays: live buffers less those pooled for reuse. */
export function liveTensorBuffers(): number {
  return native.bufferStats().liveBuffers - bufferPool.size;
}
