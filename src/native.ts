// Loads the addon and gives a typed view of its exports. A failed load explains what to do
// instead of surfacing a bare dlopen error.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type NativeDType = 'float32' | 'int32' | 'bool';
export type NativeArray = Float32Array | Int32Array | Uint8Array;
export type ShapeArg = readonly number[];

export interface BufferStats {
  liveBuffers: number;
  liveBytes: number;
  totalAllocations: number;
}

export interface BuildInfo {
  compiler: string;
  buildType: string;
  napiVersion: number;
  isa: 'generic' | 'avx2' | 'avx512';
  with: { cuda: string | false; mpi: string | false; nccl: boolean };
}

export interface CudaInfo {
  built: boolean;
  available: boolean;
  reason: string;
  devices: { index: number; name: string; computeCapability: string; memoryBytes: number }[];
}

/** The addon's exports. Kernels write into `out` arrays the caller allocated. */
export interface NativeAddon {
  alloc(dtype: 'float32', length: number): Float32Array;
  alloc(dtype: 'int32', length: number): Int32Array;
  alloc(dtype: 'bool', length: number): Uint8Array;
  alloc(dtype: NativeDType, length: number): NativeArray;
  release(array: NativeArray): boolean;
  isNative(array: NativeArray): boolean;
  bufferStats(): BufferStats;
  buildInfo(): BuildInfo;
  numThreads(): number;
  setNumThreads(n: number): void;
  cudaInfo(): CudaInfo;

  binary(op: string, a: NativeArray, aShape: ShapeArg, b: NativeArray, bShape: ShapeArg, out: NativeArray): void;
  binaryRef(op: string, a: NativeArray, aShape: ShapeArg, b: NativeArray, bShape: ShapeArg, out: NativeArray): void;

  matMul(a: NativeArray, aShape: ShapeArg, b: NativeArray, bShape: ShapeArg, transposeA: boolean, transposeB: boolean,
    out: NativeArray, bias: Float32Array | null, biasShape: ShapeArg | null, activation: string, leakyreluAlpha: number,
    prelu: Float32Array | null, preluShape: ShapeArg | null): void;
  matMulRef(a: NativeArray, aShape: ShapeArg, b: NativeArray, bShape: ShapeArg, transposeA: boolean, transposeB: boolean,
    out: NativeArray, bias: Float32Array | null, biasShape: ShapeArg | null, activation: string, leakyreluAlpha: number,
    prelu: Float32Array | null, preluShape: ShapeArg | null): void;
  /** The GEMM engine's own interface on one ISA's kernels ('auto': the active ones; 'ref': SgemmRef). */
  sgemm(isa: 'generic' | 'avx2' | 'avx512' | 'auto' | 'ref', transA: boolean, transB: boolean, m: number, n: number,
    k: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number,
    accumulate: boolean, bias: Float32Array | null, biasPerElement: boolean, activation: string, leakyAlpha: number,
    prelu: Float32Array | null, preluPerElement: boolean): void;
  /** One variant of the GEMM kernel lab (native/cpu/gemm_lab.h) on tight row-major operands. */
  gemmLab(variant: number, transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array,
    b: Float32Array, c: Float32Array, kc: number, mc: number, nc: number): void;
  gemmLabVariants(): { name: string; available: boolean }[];
}

const ADDON_PATH = join('build', 'Release', 'tessera.node');

// Walks up from this file to the package root: the same code works from dist/ and from
// bundles (the conformance suite) that live elsewhere in the tree.
function findAddon(): string | undefined {
  if (process.env.TESSERA_ADDON) return process.env.TESSERA_ADDON;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function load(): NativeAddon {
  const path = findAddon();
  if (path === undefined) {
    throw new Error(
      `tessera: the native addon (${ADDON_PATH}) was not found above ${fileURLToPath(import.meta.url)}. ` +
        'Build it with `npm run build:native` (needs cmake and a C++17 compiler), or set TESSERA_ADDON to its path.');
  }
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    throw new Error(
      `tessera: the native addon at ${path} failed to load: ${(e as Error).message}. ` +
        'Rebuild it for this Node.js with `npm run build:native`.');
  }
}

export const native: NativeAddon = load();
