// The transports under a Communicator. Each moves flat typed arrays; the Communicator
// validates arguments, converts tensors and picks algorithms before an engine sees a call.
//
// - MpiEngine: the addon's MPI communicators (native/comm): a progress thread per
//   communicator, MPI's non-blocking collectives and Tessera's ring / recursive-doubling /
//   tree algorithms on point-to-point messages.
// - SingleRankEngine: rank 0 of 1 without MPI, so that a script runs unchanged without a
//   launcher. Collectives are identities with the multi-rank semantics (mean of one value is
//   the value; allGather of one block is that block).
import { native, nativeMpi, type CommHandle, type NativeArray, type NativeDType, type NativeMpi, type Received } from '../native.js';

/** The engines' algorithm names ('auto' is resolved by the Communicator before this level). */
export type EngineAlgorithm = 'mpi' | 'ring' | 'recursive-doubling' | 'tree' | 'mpi-blocking';

export interface Engine {
  readonly name: 'mpi' | 'single';
  readonly rank: number;
  readonly size: number;
  allReduce(input: NativeArray, output: NativeArray, shape: number[], op: string, algorithm: EngineAlgorithm, timeoutMs: number): Promise<void>;
  broadcast(input: NativeArray | null, output: NativeArray, shape: number[], root: number, algorithm: EngineAlgorithm, timeoutMs: number): Promise<void>;
  allGather(input: NativeArray, output: NativeArray, shape: number[], algorithm: EngineAlgorithm, timeoutMs: number): Promise<void>;
  reduceScatter(input: NativeArray, output: NativeArray, shape: number[], op: string, algorithm: EngineAlgorithm, timeoutMs: number): Promise<void>;
  send(input: NativeArray, shape: number[], dest: number, tag: number, timeoutMs: number): Promise<void>;
  recv(src: number, tag: number, timeoutMs: number): Promise<Received>;
  barrier(timeoutMs: number): Promise<void>;
  split(color: number, key: number, timeoutMs: number): Promise<Engine | null>;
  free(): void;
}

export class MpiEngine implements Engine {
  readonly name = 'mpi';
  readonly rank: number;
  readonly size: number;

  constructor(private readonly mpi: NativeMpi, private readonly handle: CommHandle, known?: { rank: number; size: number }) {
    this.rank = known?.rank ?? mpi.commRank(handle);
    this.size = known?.size ?? mpi.commSize(handle);
  }

  /** MPI_COMM_WORLD as the launcher's environment describes it (MPI starts on its own thread). */
  static world(rank: number, size: number): MpiEngine {
    if (nativeMpi === undefined) throw new Error('mpi: the addon was built without MPI');
    return new MpiEngine(nativeMpi, nativeMpi.commWorld(rank, size), { rank, size });
  }

  allReduce(input: NativeArray, output: NativeArray, shape: number[], op: string, algorithm: EngineAlgorithm, timeoutMs: number): Promise<void> {
    return this.mpi.commAllReduce(this.handle, input, output, shape, op, algorithm, timeoutMs);
  }
  broadcast(input: NativeArray | null, output: NativeArray, shape: number[], root: number, algorithm: EngineAlgorithm, timeoutMs: number): Promise<void> {
    return this.mpi.commBroadcast(this.handle, input, output, shape, root, algorithm, timeoutMs);
  }
  allGather(input: NativeArray, output: NativeArray, shape: number[], algorithm: EngineAlgorithm, timeoutMs: number): Promise<void> {
    return this.mpi.commAllGather(this.handle, input, output, shape, algorithm, timeoutMs);
  }
  reduceScatter(input: NativeArray, output: NativeArray, shape: number[], op: string, algorithm: EngineAlgorithm, timeoutMs: number): Promise<void> {
    return this.mpi.commReduceScatter(this.handle, input, output, shape, op, algorithm, timeoutMs);
  }
  send(input: NativeArray, shape: number[], dest: number, tag: number, timeoutMs: number): Promise<void> {
    return this.mpi.commSend(this.handle, input, shape, dest, tag, timeoutMs);
  }
  recv(src: number, tag: number, timeoutMs: number): Promise<Received> {
    return this.mpi.commRecv(this.handle, src, tag, timeoutMs);
  }
  barrier(timeoutMs: number): Promise<void> {
    return this.mpi.commBarrier(this.handle, timeoutMs);
  }
  async split(color: number, key: number, timeoutMs: number): Promise<Engine | null> {
    const h = await this.mpi.commSplit(this.handle, color, key, timeoutMs);
    return h === null ? null : new MpiEngine(this.mpi, h);
  }
  free(): void {
    this.mpi.commFree(this.handle);
  }
}

function dtypeOf(a: NativeArray): NativeDType {
  return a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'bool';
}

export class SingleRankEngine implements Engine {
  readonly name = 'single';
  readonly rank = 0;
  readonly size = 1;
  // Messages this rank sent to itself, by tag, and receivers waiting for one.
  private readonly mailbox = new Map<number, Received[]>();
  private readonly waiting = new Map<number, ((m: Received) => void)[]>();

  async allReduce(input: NativeArray, output: NativeArray): Promise<void> {
    output.set(input);
  }
  async broadcast(input: NativeArray | null, output: NativeArray): Promise<void> {
    output.set(input!);
  }
  async allGather(input: NativeArray, output: NativeArray): Promise<void> {
    output.set(input);
  }
  async reduceScatter(input: NativeArray, output: NativeArray): Promise<void> {
    output.set(input);
  }
  async send(input: NativeArray, shape: number[], _dest: number, tag: number): Promise<void> {
    const values = native.alloc(dtypeOf(input), input.length);
    values.set(input);
    const message: Received = { values, shape: [...shape], dtype: dtypeOf(input) };
    const waiter = this.waiting.get(tag)?.shift();
    if (waiter) waiter(message);
    else this.mailbox.set(tag, [...(this.mailbox.get(tag) ?? []), message]);
  }
  recv(_src: number, tag: number, timeoutMs: number): Promise<Received> {
    const queued = this.mailbox.get(tag)?.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (m: Received): void => {
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        const list = this.waiting.get(tag)!;
        list.splice(list.indexOf(waiter), 1);
        reject(new Error(`recv: timed out after ${timeoutMs / 1000} s waiting for rank 0 to send (tag ${tag}); a single-rank communicator only receives what it sent itself`));
      }, timeoutMs);
      this.waiting.set(tag, [...(this.waiting.get(tag) ?? []), waiter]);
    });
  }
  async barrier(): Promise<void> {}
  async split(color: number): Promise<Engine | null> {
    return color < 0 ? null : new SingleRankEngine();
  }
  free(): void {}
}
