// Checkpoint files: model weights, optimizer state and the training position in one file,
// written atomically (temp file in the same directory, fsync, rename, fsync of the
// directory): a crash while writing leaves the previous checkpoint intact, and a reader
// never sees a partial file. A CRC-32 of the payload catches a file damaged afterwards.
//
// Layout: "TESSCKPT", uint32 LE header length, the header (JSON), then the tensors' bytes
// (little-endian, in header order, each at the offset the header gives, relative to the
// start of the payload).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 'TESSCKPT';
const FORMAT_VERSION = 1;

export type CheckpointDType = 'float32' | 'int32' | 'bool';

export interface CheckpointTensor {
  /** 'weights' (model or trainer variables, in their order) or 'optimizer' (optimizer.getWeights(), in its order). */
  group: 'weights' | 'optimizer';
  name: string;
  shape: number[];
  dtype: CheckpointDType;
  values: Float32Array | Int32Array | Uint8Array;
}

/** Where training stands: what resuming needs besides the tensors. */
export interface TrainingPosition {
  /** Optimizer steps done since training began (every rank applied this many). */
  step: number;
  /** The epoch under way (fit) and how many of its steps are done. */
  epoch: number;
  stepInEpoch: number;
  /** Samples in one step across all ranks (per-rank batch × ranks × micro-batches). */
  globalBatchSize?: number;
  /** The seed of fit's shuffling (each epoch's order derives from it and the epoch). */
  seed?: number;
}

export interface CheckpointContents {
  position: TrainingPosition;
  tensors: CheckpointTensor[];
  /** Ranks when it was written (informational: any world size can resume at the same global batch). */
  worldSize: number;
  /** Free-form JSON the caller stored beside the state. */
  user?: unknown;
}

interface HeaderEntry {
  group: CheckpointTensor['group'];
  name: string;
  shape: number[];
  dtype: CheckpointDType;
  offset: number;
  bytes: number;
}

interface Header {
  format: 'tessera-checkpoint';
  version: number;
  savedAt: string;
  worldSize: number;
  position: TrainingPosition;
  user?: unknown;
  payloadBytes: number;
  crc32: number;
  tensors: HeaderEntry[];
}

function bytesOf(v: CheckpointTensor['values']): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** The checkpoint file's bytes. */
export function encodeCheckpoint(c: CheckpointContents): Uint8Array[] {
  const entries: HeaderEntry[] = [];
  let offset = 0;
  let crc = 0;
  for (const t of c.tensors) {
    const b = bytesOf(t.values);
    entries.push({ group: t.group, name: t.name, shape: [...t.shape], dtype: t.dtype, offset, bytes: b.byteLength });
    offset += b.byteLength;
    crc = crc32(b, crc);
  }
  const header: Header = {
    format: 'tessera-checkpoint', version: FORMAT_VERSION, savedAt: new Date().toISOString(), worldSize: c.worldSize,
    position: c.position, user: c.user, payloadBytes: offset, crc32: crc, tensors: entries,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(MAGIC.length + 4);
  prefix.set(new TextEncoder().encode(MAGIC));
  new DataView(prefix.buffer).setUint32(MAGIC.length, json.byteLength, true);
  return [prefix, json, ...c.tensors.map((t) => bytesOf(t.values))];
}

/** Parses a checkpoint file's bytes; `source` names it in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): CheckpointContents {
  const fail = (why: string): never => {
    throw new Error(`checkpoint ${source}: ${why}`);
  };
  if (bytes.byteLength < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    fail(`not a Tessera checkpoint (expected the magic '${MAGIC}')`);
  }
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  const start = MAGIC.length + 4 + headerBytes;
  if (start > bytes.byteLength) fail(`truncated: the header needs ${headerBytes} bytes`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, start))) as Header;
  if (header.format !== 'tessera-checkpoint' || header.version !== FORMAT_VERSION) fail(`expected format version ${FORMAT_VERSION} but got ${header.version}`);
  const payload = bytes.subarray(start);
  if (payload.byteLength !== header.payloadBytes) fail(`expected ${header.payloadBytes} bytes of tensors but found ${payload.byteLength} (truncated or damaged)`);
  if (crc32(payload) !== header.crc32) fail('CRC-32 mismatch: the file was damaged after it was written');
  const tensors = header.tensors.map((e): CheckpointTensor => {
    // A copy into a buffer of its own: typed arrays need an aligned offset, and a Node
    // Buffer's slice() would share (and expose) the whole underlying pool.
    const raw = new Uint8Array(e.bytes);
    raw.set(payload.subarray(e.offset, e.offset + e.bytes));
    const values = e.dtype === 'float32' ? new Float32Array(raw.buffer) : e.dtype === 'int32' ? new Int32Array(raw.buffer) : raw;
    return { group: e.group, name: e.name, shape: e.shape, dtype: e.dtype, values };
  });
  return { position: header.position, tensors, worldSize: header.worldSize, user: header.user };
}

/**
 * Writes `chunks` to `path` atomically: into a temp file beside it, fsync, rename over
 * `path`, fsync of the directory (so the rename itself survives a power loss).
 */
export function writeFileAtomic(path: string, chunks: Uint8Array[]): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks) {
        let done = 0;
        while (done < c.byteLength) done += writeSync(fd, c, done, c.byteLength - done);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  let dfd: number | undefined;
  try {
    dfd = openSync(dir, 'r');
    fsyncSync(dfd);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (dfd !== undefined) closeSync(dfd);
  }
}

export function writeCheckpoint(path: string, c: CheckpointContents): void {
  writeFileAtomic(path, encodeCheckpoint(c));
}

/** The checkpoint at `path`, or null if there is none. */
export function readCheckpoint(path: string): CheckpointContents | null {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return decodeCheckpoint(bytes, path);
}
