// Communicator: collectives and point-to-point messages between ranks, on Tessera tensors
// (tessera-cpu: the native buffers move without a copy), on tfjs tensors of any backend
// (their values are read, and new tensors returned), on DeviceArrays and on typed arrays.
// Every call is async: the data moves on the engine's progress thread while the event loop
// runs, and a pending call keeps the process alive.
//
// Arguments are checked on the calling rank before anything is sent. Across ranks, every
// collective first exchanges a header (op, dtype, shape, algorithm, a sequence number) and
// ranks that disagree fail together with one message naming what differs; a rank that died
// or never calls makes the others fail after `timeoutMs` without progress.
import { engine as tfEngine, tensor as tfTensor, Tensor } from '@tensorflow/tfjs-core';

import type { TesseraCpuBackend } from '../backend/backend_cpu.js';
import { DeviceArray } from '../kernels/array.js';
import { native, type NativeArray, type NativeDType } from '../native.js';
import type { Engine, EngineAlgorithm } from './engine.js';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod';
/**
 * 'auto' picks by message size (see AUTO below); 'mpi' is the engine's own non-blocking
 * collective (MPI_Iallreduce, ...); 'mpi-blocking' the blocking one (no timeout: a dead peer
 * hangs it; for benchmarks); 'ring', 'recursive-doubling' (allReduce) and 'tree' (broadcast)
 * are Tessera's algorithms on point-to-point messages.
 */
export type Algorithm = 'auto' | EngineAlgorithm;
/** What the collectives take: a tensor, a DeviceArray or a typed array; they return the same kind. */
export type Collectable = Tensor | DeviceArray | Float32Array | Int32Array | Uint8Array;
export type Like<T> = T extends Tensor ? Tensor : T extends DeviceArray ? DeviceArray : T;

export interface CollectiveOptions {
  algorithm?: Algorithm;
  /** Milliseconds without progress before the call fails (default: the communicator's timeoutMs). */
  timeoutMs?: number;
}

export interface PointToPointOptions {
  /** Messages match by (source, tag); 0 to 16383. */
  tag?: number;
  timeoutMs?: number;
}

export interface RecvOptions extends PointToPointOptions {
  /** What to return: a tensor (default), a DeviceArray, or a typed array. */
  as?: 'tensor' | 'array' | 'typed';
}

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'max', 'min', 'prod'];
const ALGORITHMS: Record<'allReduce' | 'broadcast' | 'allGather' | 'reduceScatter', readonly Algorithm[]> = {
  allReduce: ['auto', 'mpi', 'ring', 'recursive-doubling', 'mpi-blocking'],
  broadcast: ['auto', 'mpi', 'tree', 'mpi-blocking'],
  allGather: ['auto', 'mpi', 'ring', 'mpi-blocking'],
  reduceScatter: ['auto', 'mpi', 'ring', 'mpi-blocking'],
};

/**
 * 'auto', from bench/collectives.mjs on the 2-core CI guest (Open MPI 4.1 over shared memory;
 * bench/RESULTS.md, "Collectives"): allReduce takes recursive doubling for small messages,
 * and at 2 ranks up to 16 MB (there it is one exchange of the whole buffer: the ring's volume
 * with half its steps), else the ring; allGather takes MPI's (the ring never won it);
 * reduceScatter takes the ring from 4 MB (MPI_Ireduce_scatter fell to 0.1-0.8 GB/s there).
 * Sizes in bytes.
 */
export const AUTO = {
  allReduceRingFrom: 1 << 20,
  allReduceRingFromAtTwoRanks: 16 << 20,
  allGatherRingFrom: Number.POSITIVE_INFINITY,
  reduceScatterRingFrom: 4 << 20,
};

export const DEFAULT_TIMEOUT_MS = 120_000;

function defaultTimeout(): number {
  const v = Number(process.env.TESSERA_COMM_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof DeviceArray) return v.disposed ? 'a disposed DeviceArray' : `a ${v.dtype} DeviceArray`;
  if (v instanceof Tensor) return v.isDisposed ? 'a disposed tensor' : `a ${v.dtype} tensor`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (Array.isArray(v)) return 'an array';
  return `a ${(v as object).constructor?.name ?? 'value'}`;
}

function argError(op: string, arg: string, expected: string, got: unknown): Error {
  return new Error(`${op}: expected ${expected} for ${arg} but got ${describe(got)}`);
}

function dtypeOfArray(a: NativeArray): NativeDType {
  return a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'bool';
}

const BYTES: Record<NativeDType, number> = { float32: 4, int32: 4, bool: 1 };

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Rows of axis 0 split as numpy's array_split does (a scalar is one row): this rank's block. */
export function blockOf(shape: readonly number[], size: number, rank: number): { shape: number[]; offset: number; length: number } {
  const rows = shape.length === 0 ? 1 : shape[0];
  const rowSize = shape.length === 0 ? 1 : sizeOf(shape.slice(1));
  const q = Math.floor(rows / size), rem = rows % size;
  const myRows = q + (rank < rem ? 1 : 0);
  const firstRow = rank * q + Math.min(rank, rem);
  return { shape: shape.length === 0 ? [myRows] : [myRows, ...shape.slice(1)], offset: firstRow * rowSize, length: myRows * rowSize };
}

// An argument's values as a native-ready typed array, and how to give results back in its kind.
interface Prepared {
  kind: 'tensor' | 'array' | 'typed';
  values: NativeArray;
  shape: number[];
  dtype: NativeDType;
  /** Ends what prepare() holds (a reference on a tessera-cpu tensor's storage). */
  done(): void;
}

function tesseraBackendOf(t: Tensor): TesseraCpuBackend | undefined {
  const b = tfEngine().registry['tessera-cpu'] as TesseraCpuBackend | undefined;
  return b !== undefined && b.data.has(t.dataId) ? b : undefined;
}

function checkCollectable(op: string, arg: string, x: unknown): void {
  // DeviceArray first: tfjs's `instanceof Tensor` reads .data, which throws on a disposed DeviceArray.
  if (x instanceof DeviceArray) {
    if (x.disposed) throw argError(op, arg, 'a live DeviceArray', x);
    if (x.device.kind !== 'cpu') throw new Error(`${op}: expected a cpu DeviceArray for ${arg} but got one on ${x.device.kind}`);
    return;
  }
  if (x instanceof Tensor) {
    if (x.isDisposed) throw argError(op, arg, 'a live tensor', x);
    if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') throw argError(op, `${arg}.dtype`, 'float32, int32 or bool', x.dtype);
    return;
  }
  if (x instanceof Float32Array || x instanceof Int32Array || x instanceof Uint8Array) return;
  throw argError(op, arg, 'a tensor, a DeviceArray, or a Float32Array, Int32Array or Uint8Array', x);
}

function shapeAndDType(x: Collectable): { shape: number[]; dtype: NativeDType } {
  if (x instanceof DeviceArray) return { shape: [...x.shape], dtype: x.dtype };
  if (x instanceof Tensor) return { shape: [...x.shape], dtype: x.dtype as NativeDType };
  return { shape: [x.length], dtype: dtypeOfArray(x) };
}

async function prepare(x: Collectable): Promise<Prepared> {
  if (x instanceof DeviceArray) return { kind: 'array', values: x.data, shape: [...x.shape], dtype: x.dtype, done: () => {} };
  if (x instanceof Tensor) {
    const shape = [...x.shape];
    const dtype = x.dtype as NativeDType;
    const backend = tesseraBackendOf(x);
    const values = backend?.nativeValues(x);
    if (backend !== undefined && values !== undefined) {
      // Holds the storage so that disposing the tensor meanwhile cannot free it under the transfer.
      backend.incRef(x.dataId);
      return { kind: 'tensor', values, shape, dtype, done: () => backend.disposeData(x.dataId) };
    }
    const data = await x.data();
    const values2 = data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint8Array ? data : Float32Array.from(data as ArrayLike<number>);
    return { kind: 'tensor', values: values2, shape, dtype, done: () => {} };
  }
  return { kind: 'typed', values: x, shape: [x.length], dtype: dtypeOfArray(x), done: () => {} };
}

function wrap(kind: Prepared['kind'], values: NativeArray, shape: number[], dtype: NativeDType): Collectable {
  if (kind === 'typed') return values;
  if (kind === 'array') return new DeviceArray(values as Float32Array, shape, dtype as 'float32');
  const e = tfEngine();
  if (e.backendName === 'tessera-cpu' && values.length > 0 && native.isNative(values)) {
    const backend = e.backend as TesseraCpuBackend;
    return e.makeTensorFromTensorInfo(backend.adoptBuffer(values, shape, dtype), backend);
  }
  // Other backends keep the array they are given: hand them a JS copy and free the native one.
  if (values.length === 0 || !native.isNative(values)) return tfTensor(values, shape, dtype);
  const copy = values.slice();
  native.release(values);
  return tfTensor(copy, shape, dtype);
}

export class Communicator {
  /** The default algorithm of this communicator's collectives. */
  algorithm: Algorithm = 'auto';
  /** Milliseconds without progress before a call fails (TESSERA_COMM_TIMEOUT_MS, else 120 s). */
  timeoutMs = defaultTimeout();

  #engine: Engine | undefined;
  // Calls reach the engine in the order they were made, even when preparing one (reading a
  // tensor from another backend) takes longer than the next: every rank must submit its
  // collectives in one order.
  #order: Promise<void> = Promise.resolve();
  #freed = false;

  /**
   * `engine` may be a factory: the world communicator creates its engine (and initializes
   * MPI) on first use, while rank and size come from the launcher's environment until then.
   */
  constructor(
    private readonly source: Engine | (() => Engine),
    private readonly known?: { rank: number; size: number },
  ) {
    if (typeof source !== 'function') this.#engine = source;
  }

  private engine(op: string): Engine {
    if (this.#freed) throw new Error(`${op}: the communicator was freed`);
    if (this.#engine === undefined) this.#engine = (this.source as () => Engine)();
    return this.#engine;
  }

  get rank(): number {
    return this.#engine?.rank ?? this.known?.rank ?? 0;
  }

  get size(): number {
    return this.#engine?.size ?? this.known?.size ?? 1;
  }

  /** 'mpi' or 'single' (rank 0 of 1, no MPI); the world communicator reports it once created. */
  get engineName(): 'mpi' | 'single' | 'not started' {
    return this.#engine?.name ?? (this.size === 1 ? 'single' : 'not started');
  }

  private timeout(op: string, options: { timeoutMs?: number } | undefined): number {
    const t = options?.timeoutMs ?? this.timeoutMs;
    if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) throw argError(op, 'timeoutMs', 'a positive number of milliseconds', t);
    return Math.ceil(t);
  }

  private pickAlgorithm(op: keyof typeof ALGORITHMS, requested: Algorithm | undefined, bytes: number): EngineAlgorithm {
    const a = requested ?? this.algorithm;
    if (!ALGORITHMS[op].includes(a)) throw argError(op, 'algorithm', `one of ${ALGORITHMS[op].join(', ')}`, a);
    if (a !== 'auto') return a as EngineAlgorithm;
    switch (op) {
      case 'allReduce': return bytes < (this.size === 2 ? AUTO.allReduceRingFromAtTwoRanks : AUTO.allReduceRingFrom) ? 'recursive-doubling' : 'ring';
      case 'allGather': return bytes >= AUTO.allGatherRingFrom ? 'ring' : 'mpi';
      case 'reduceScatter': return bytes >= AUTO.reduceScatterRingFrom ? 'ring' : 'mpi';
      default: return 'mpi';
    }
  }

  private checkRank(op: string, arg: string, r: unknown): number {
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r >= this.size) throw argError(op, arg, `a rank in [0, ${this.size})`, r);
    return r;
  }

  // Prepares `x`, then submits in call order; returns the engine call's promise.
  private async run<R>(x: Collectable | null, submit: (p: Prepared | null, e: Engine) => Promise<R>, e: Engine): Promise<R> {
    const prev = this.#order;
    let release!: () => void;
    this.#order = new Promise((r) => (release = r));
    let p: Prepared | null = null;
    let pending: Promise<R>;
    try {
      p = x === null ? null : await prepare(x);
      await prev;
      pending = submit(p, e);
    } catch (err) {
      p?.done();
      throw err;
    } finally {
      release();
    }
    try {
      return await pending;
    } finally {
      p?.done();
    }
  }

  /** Reduces `x` across ranks with `op`; every rank gets the result. mean needs float32; on bool, sum and max are or, prod and min are and. */
  async allReduce<T extends Collectable>(x: T, op: ReduceOp = 'sum', options?: CollectiveOptions): Promise<Like<T>> {
    const name = 'allReduce';
    checkCollectable(name, 'x', x);
    if (!REDUCE_OPS.includes(op)) throw argError(name, 'op', `one of ${REDUCE_OPS.join(', ')}`, op);
    const { shape, dtype } = shapeAndDType(x);
    if (op === 'mean' && dtype !== 'float32') throw argError(name, 'x.dtype', 'float32 for mean', dtype);
    const algorithm = this.pickAlgorithm(name, options?.algorithm, sizeOf(shape) * BYTES[dtype]);
    const timeout = this.timeout(name, options);
    const e = this.engine(name);
    let out: NativeArray | undefined;
    return this.run(x, async (p) => {
      out = native.alloc(dtype, p!.values.length);
      await e.allReduce(p!.values, out, shape, op, algorithm, timeout);
      return wrap(p!.kind, out, shape, dtype) as Like<T>;
    }, e);
  }

  /** Every rank gets the root's `x`. Other ranks pass a value of the same shape and dtype (its values are not read). */
  async broadcast<T extends Collectable>(x: T, root = 0, options?: CollectiveOptions): Promise<Like<T>> {
    const name = 'broadcast';
    checkCollectable(name, 'x', x);
    this.checkRank(name, 'root', root);
    const { shape, dtype } = shapeAndDType(x);
    const algorithm = this.pickAlgorithm(name, options?.algorithm, sizeOf(shape) * BYTES[dtype]);
    const timeout = this.timeout(name, options);
    const e = this.engine(name);
    const isRoot = root === this.rank;
    const kind = x instanceof DeviceArray ? 'array' : x instanceof Tensor ? 'tensor' : 'typed';
    return this.run(isRoot ? x : null, async (p) => {
      const out = native.alloc(dtype, sizeOf(shape));
      await e.broadcast(p?.values ?? null, out, shape, root, algorithm, timeout);
      return wrap(kind, out, shape, dtype) as Like<T>;
    }, e);
  }

  /** Concatenates every rank's `x` along axis 0 in rank order (a scalar counts as shape [1]); shapes must match. */
  async allGather<T extends Collectable>(x: T, options?: CollectiveOptions): Promise<Like<T>> {
    const name = 'allGather';
    checkCollectable(name, 'x', x);
    const { shape, dtype } = shapeAndDType(x);
    const outShape = shape.length === 0 ? [this.size] : [shape[0] * this.size, ...shape.slice(1)];
    const algorithm = this.pickAlgorithm(name, options?.algorithm, sizeOf(outShape) * BYTES[dtype]);
    const timeout = this.timeout(name, options);
    const e = this.engine(name);
    return this.run(x, async (p) => {
      const out = native.alloc(dtype, sizeOf(outShape));
      await e.allGather(p!.values, out, shape, algorithm, timeout);
      return wrap(p!.kind, out, outShape, dtype) as Like<T>;
    }, e);
  }

  /**
   * Reduces `x` across ranks and gives each rank one block of rows of the result: axis 0
   * split as numpy's array_split (the first rows % size ranks get one row more).
   */
  async reduceScatter<T extends Collectable>(x: T, op: ReduceOp = 'sum', options?: CollectiveOptions): Promise<Like<T>> {
    const name = 'reduceScatter';
    checkCollectable(name, 'x', x);
    if (!REDUCE_OPS.includes(op)) throw argError(name, 'op', `one of ${REDUCE_OPS.join(', ')}`, op);
    const { shape, dtype } = shapeAndDType(x);
    if (op === 'mean' && dtype !== 'float32') throw argError(name, 'x.dtype', 'float32 for mean', dtype);
    const algorithm = this.pickAlgorithm(name, options?.algorithm, sizeOf(shape) * BYTES[dtype]);
    const timeout = this.timeout(name, options);
    const e = this.engine(name);
    const block = blockOf(shape, this.size, this.rank);
    return this.run(x, async (p) => {
      const out = native.alloc(dtype, block.length);
      await e.reduceScatter(p!.values, out, shape, op, algorithm, timeout);
      return wrap(p!.kind, out, block.shape, dtype) as Like<T>;
    }, e);
  }

  /** Sends `x` (its dtype and shape travel with it) to rank `dest`; resolves once it is on its way or received. */
  async send(x: Collectable, dest: number, options?: PointToPointOptions): Promise<void> {
    const name = 'send';
    checkCollectable(name, 'x', x);
    this.checkRank(name, 'dest', dest);
    const tag = this.checkTag(name, options?.tag);
    const timeout = this.timeout(name, options);
    const e = this.engine(name);
    const { shape } = shapeAndDType(x);
    return this.run(x, (p) => e.send(p!.values, shape, dest, tag, timeout), e);
  }

  /** Receives what rank `src` sends with this tag. */
  async recv(src: number, options: RecvOptions & { as: 'typed' }): Promise<NativeArray>;
  async recv(src: number, options: RecvOptions & { as: 'array' }): Promise<DeviceArray>;
  async recv(src: number, options?: RecvOptions): Promise<Tensor>;
  async recv(src: number, options?: RecvOptions): Promise<Collectable> {
    const name = 'recv';
    this.checkRank(name, 'src', src);
    const tag = this.checkTag(name, options?.tag);
    const as = options?.as ?? 'tensor';
    if (as !== 'tensor' && as !== 'array' && as !== 'typed') throw argError(name, 'as', "'tensor', 'array' or 'typed'", as);
    const timeout = this.timeout(name, options);
    const e = this.engine(name);
    return this.run(null, async () => {
      const m = await e.recv(src, tag, timeout);
      return wrap(as, m.values, m.shape, m.dtype);
    }, e);
  }

  /** Resolves once every rank has called barrier. */
  async barrier(options?: { timeoutMs?: number }): Promise<void> {
    const timeout = this.timeout('barrier', options);
    const e = this.engine('barrier');
    return this.run(null, () => e.barrier(timeout), e);
  }

  /**
   * Splits into sub-communicators (tensor or pipeline groups): ranks passing the same color
   * form one, ordered by key (default: rank). A null color joins none (resolves to null).
   * Collective: every rank calls it.
   */
  async split(color: number | null, key: number = this.rank, options?: { timeoutMs?: number }): Promise<Communicator | null> {
    const name = 'split';
    if (color !== null && (typeof color !== 'number' || !Number.isInteger(color) || color < 0 || color > 0x7fffffff)) {
      throw argError(name, 'color', 'a non-negative integer or null', color);
    }
    if (typeof key !== 'number' || !Number.isInteger(key) || Math.abs(key) > 0x7fffffff) throw argError(name, 'key', 'a 32-bit integer', key);
    const timeout = this.timeout(name, options);
    const e = this.engine(name);
    const sub = await this.run(null, () => e.split(color ?? -1, key, timeout), e);
    if (sub === null) return null;
    const c = new Communicator(sub);
    c.algorithm = this.algorithm;
    c.timeoutMs = this.timeoutMs;
    return c;
  }

  /** Releases a communicator from split() after its pending calls. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#engine?.free();
  }

  private checkTag(op: string, tag: unknown): number {
    const t = tag ?? 0;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 16383) throw argError(op, 'tag', 'an integer in [0, 16383]', t);
    return t;
  }
}
