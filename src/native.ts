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
  /** Freed blocks kept for reuse by size class (not live). */
  cachedBytes: number;
}

export interface BuildInfo {
  compiler: string;
  buildType: string;
  napiVersion: number;
  isa: 'generic' | 'avx2' | 'avx512';
  with: { cuda: string | false; mpi: string | false; nccl: boolean };
}

/** What the collectives engines are: MPI (library and standard when built with it) and NCCL. */
export interface CommInfo {
  mpi: boolean;
  library?: string;
  standard?: string;
  initialized?: boolean;
  finalized?: boolean;
  nccl: boolean;
}

/** An opaque native communicator (an MPI communicator with its progress thread). */
export type CommHandle = { readonly __commHandle: unique symbol };

export interface Received {
  values: NativeArray;
  shape: number[];
  dtype: NativeDType;
}

/**
 * The MPI engine's exports, present only when the addon was built with MPI. Every op returns
 * a promise that settles when the op finished on this rank; algorithm is one of mpi, ring,
 * recursive-doubling, tree, mpi-blocking (validated by src/parallel first).
 */
export interface NativeMpi {
  /**
   * The handle of MPI_COMM_WORLD, given the rank and size the launcher's environment says.
   * MPI is initialized on its own thread (MPI_Init waits for every rank); the first op waits
   * for it within its timeout and checks rank and size against MPI's.
   */
  commWorld(rank: number, size: number): CommHandle;
  commRank(h: CommHandle): number;
  commSize(h: CommHandle): number;
  commAllReduce(h: CommHandle, input: NativeArray, output: NativeArray, shape: ShapeArg, op: string, algorithm: string, timeoutMs: number): Promise<void>;
  commBroadcast(h: CommHandle, input: NativeArray | null, output: NativeArray, shape: ShapeArg, root: number, algorithm: string, timeoutMs: number): Promise<void>;
  commAllGather(h: CommHandle, input: NativeArray, output: NativeArray, shape: ShapeArg, algorithm: string, timeoutMs: number): Promise<void>;
  commReduceScatter(h: CommHandle, input: NativeArray, output: NativeArray, shape: ShapeArg, op: string, algorithm: string, timeoutMs: number): Promise<void>;
  commSend(h: CommHandle, input: NativeArray, shape: ShapeArg, dest: number, tag: number, timeoutMs: number): Promise<void>;
  commRecv(h: CommHandle, src: number, tag: number, timeoutMs: number): Promise<Received>;
  commBarrier(h: CommHandle, timeoutMs: number): Promise<void>;
  /** color < 0: this rank joins no new communicator (resolves to null). */
  commSplit(h: CommHandle, color: number, key: number, timeoutMs: number): Promise<CommHandle | null>;
  commFree(h: CommHandle): void;
}

export interface CudaInfo {
  built: boolean;
  available: boolean;
  reason: string;
  devices: { index: number; name: string; computeCapability: string; memoryBytes: number }[];
}

/** A device buffer of the CUDA addon: an opaque handle (a type-tagged External). */
export type CudaBuffer = { readonly __cudaBuffer: unique symbol };

/** A CUDA device's caching allocator: size-class bytes live, and freed blocks kept for reuse. */
export interface CudaMemoryStats {
  liveBytes: number;
  liveBuffers: number;
  cachedBytes: number;
  cachedBuffers: number;
  peakLiveBytes: number;
  /** Calls into cudaMalloc (a cache miss each). */
  rawAllocations: number;
  /** Requests served from the cache. */
  reuses: number;
}

/** The caching allocator over a mock raw allocator of `capacity` bytes (bookkeeping tests). */
export interface MockCachingAllocator {
  /** A block id, 0 for a 0-byte request; throws when the capacity is exhausted even after trimming. */
  alloc(bytes: number): number;
  free(id: number): boolean;
  trim(): void;
  stats(): CudaMemoryStats;
  rawBytesInUse(): number;
}

export type GemmPrecision = 'fp32' | 'tf32' | 'bf16';
export type CudaActivation = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid';

/**
 * The CUDA exports, present when the addon was built with a CUDA toolkit (buildInfo().with.cuda).
 * Kernels enqueue on the buffers' device stream and return at once; cudaDownload waits.
 */
export interface CudaAddon {
  cudaAlloc(device: number, dtype: NativeDType, length: number): CudaBuffer;
  cudaFree(buffer: CudaBuffer): boolean;
  cudaBufferInfo(buffer: CudaBuffer): { device: number; dtype: NativeDType; length: number; freed: boolean };
  cudaUpload(buffer: CudaBuffer, values: NativeArray): void;
  cudaDownload(buffer: CudaBuffer, out: NativeArray): void;
  /** Enqueues the copy now (ordered before any later reuse of the buffer), waits off the JS thread. */
  cudaDownloadAsync(buffer: CudaBuffer, out: NativeArray): Promise<void>;
  cudaSync(device: number): void;
  cudaMemoryStats(device: number): CudaMemoryStats;
  cudaTrim(device: number): void;
  cudaCopyProbe(device: number, bytes: number, iterations: number): { bytes: number; milliseconds: number };

  cudaMatMul(a: CudaBuffer, b: CudaBuffer, out: CudaBuffer, batch: number, m: number, n: number, k: number, transA: boolean,
    transB: boolean, aBatchStride: number, bBatchStride: number, bias: CudaBuffer | null, activation: CudaActivation,
    leakyAlpha: number, precision: GemmPrecision): void;
  cudaPlanSgemm(batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, precision: GemmPrecision,
    smCount: number): { kernel: string; grid: number[]; block: number[]; vectorA: boolean; vectorB: boolean; vectorC: boolean; batchChunks: number };
  /** geometry: [strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW] */
  cudaConv2d(x: CudaBuffer, xShape: ShapeArg, filter: CudaBuffer, filterShape: ShapeArg, y: CudaBuffer, geometry: ShapeArg,
    bias: CudaBuffer | null, activation: CudaActivation, leakyAlpha: number): void;
  cudaConv2dBackpropInput(dy: CudaBuffer, dyShape: ShapeArg, filter: CudaBuffer, filterShape: ShapeArg, dx: CudaBuffer,
    dxShape: ShapeArg, geometry: ShapeArg): void;
  cudaConv2dBackpropFilter(x: CudaBuffer, xShape: ShapeArg, dy: CudaBuffer, dyShape: ShapeArg, dfilter: CudaBuffer,
    filterShape: ShapeArg, geometry: ShapeArg): void;
  cudaPlanConv2d(pass: 'forward' | 'input' | 'filter', xShape: ShapeArg, filterShape: ShapeArg, geometry: ShapeArg, smCount: number):
    { m: number; n: number; k: number; grid: number[]; block: number[]; kPerSplit: number; workspaceFloats: number };
  cudaBinary(op: string, a: CudaBuffer, aShape: ShapeArg, b: CudaBuffer, bShape: ShapeArg, out: CudaBuffer): void;
  cudaUnary(op: string, x: CudaBuffer, out: CudaBuffer, attr0?: number, attr1?: number): void;
  cudaBatchNorm(x: CudaBuffer, mean: CudaBuffer, variance: CudaBuffer, offset: CudaBuffer | null, scale: CudaBuffer | null,
    epsilon: number, out: CudaBuffer): void;
  cudaReduce(op: string, x: CudaBuffer, shape: ShapeArg, axes: ShapeArg, out: CudaBuffer): void;
  cudaPlanReduce(dtype: NativeDType, shape: ShapeArg, axes: ShapeArg): { perm: number[]; rows: number; cols: number; warpPerRow: boolean; workspaceBytes: number };
  cudaSoftmax(logits: CudaBuffer, shape: ShapeArg, out: CudaBuffer): void;
  cudaTranspose(x: CudaBuffer, shape: ShapeArg, perm: ShapeArg, out: CudaBuffer): void;
  cudaPlanTranspose(shape: ShapeArg, perm: ShapeArg): { kind: 'copy' | 'tiled' | 'general'; shape: number[]; perm: number[] };
  cudaGather(x: CudaBuffer, xShape: ShapeArg, indices: CudaBuffer, indicesShape: ShapeArg, axis: number, batchDims: number, out: CudaBuffer): void;
  /** geometry as pool2d's: [batch, inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft] */
  cudaPool2d(type: 'max' | 'avg', x: CudaBuffer, geometry: ShapeArg, out: CudaBuffer): void;
  cudaMaxPoolGrad(dy: CudaBuffer, x: CudaBuffer, geometry: ShapeArg, dx: CudaBuffer): void;
  cudaAvgPoolGrad(dy: CudaBuffer, geometry: ShapeArg, dx: CudaBuffer): void;
  /** The kernel lab (kernels/cuda/lab.cuh): variant names, 1-based. */
  cudaLabVariants(): { sgemm: string[]; conv: string[] };
  cudaSgemmLab(variant: number, m: number, n: number, k: number, a: CudaBuffer, b: CudaBuffer, c: CudaBuffer): void;
  cudaConvLab(variant: number, xShape: ShapeArg, filterShape: ShapeArg, geometry: ShapeArg, x: CudaBuffer, filter: CudaBuffer, y: CudaBuffer): void;
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
  /** Returns the cached free blocks to the system. */
  trimBufferCache(): void;
  buildInfo(): BuildInfo;
  numThreads(): number;
  setNumThreads(n: number): void;
  cudaInfo(): CudaInfo;
  MockCachingAllocator: new (capacityBytes: number) => MockCachingAllocator;
  /** The caching allocator's size class for a request of `bytes`. */
  cachingAllocatorSizeClass(bytes: number): number;
  commInfo(): CommInfo;

  binary(op: string, a: NativeArray, aShape: ShapeArg, b: NativeArray, bShape: ShapeArg, out: NativeArray): void;
  /** The integer code of a binary op for binaryFlat. */
  binaryOpCode(op: string): number;
  /** out = a (op) b where a and b each have out's length or length 1 (no shapes, no broadcasting beyond that). */
  binaryFlat(code: number, a: NativeArray, b: NativeArray, out: NativeArray): void;
  binaryRef(op: string, a: NativeArray, aShape: ShapeArg, b: NativeArray, bShape: ShapeArg, out: NativeArray): void;

  // Convolutions (NHWC). geometry = [strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW].
  conv2d(x: Float32Array, xShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg, out: Float32Array, geometry: ShapeArg,
    bias: Float32Array | null, biasShape: ShapeArg | null, activation: string, preluAlpha: Float32Array | null,
    preluAlphaShape: ShapeArg | null, leakyreluAlpha: number): void;
  conv2dRef(x: Float32Array, xShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg, out: Float32Array, geometry: ShapeArg,
    bias: Float32Array | null, biasShape: ShapeArg | null, activation: string, preluAlpha: Float32Array | null,
    preluAlphaShape: ShapeArg | null, leakyreluAlpha: number): void;
  depthwiseConv2d(x: Float32Array, xShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg, out: Float32Array,
    geometry: ShapeArg, bias: Float32Array | null, biasShape: ShapeArg | null, activation: string,
    preluAlpha: Float32Array | null, preluAlphaShape: ShapeArg | null, leakyreluAlpha: number): void;
  depthwiseConv2dRef(x: Float32Array, xShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg, out: Float32Array,
    geometry: ShapeArg, bias: Float32Array | null, biasShape: ShapeArg | null, activation: string,
    preluAlpha: Float32Array | null, preluAlphaShape: ShapeArg | null, leakyreluAlpha: number): void;
  conv2dBackpropInput(dy: Float32Array, dyShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg, dx: Float32Array,
    dxShape: ShapeArg, geometry: ShapeArg): void;
  conv2dBackpropInputRef(dy: Float32Array, dyShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg, dx: Float32Array,
    dxShape: ShapeArg, geometry: ShapeArg): void;
  depthwiseConv2dBackpropInput(dy: Float32Array, dyShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg,
    dx: Float32Array, dxShape: ShapeArg, geometry: ShapeArg): void;
  depthwiseConv2dBackpropInputRef(dy: Float32Array, dyShape: ShapeArg, filter: Float32Array, filterShape: ShapeArg,
    dx: Float32Array, dxShape: ShapeArg, geometry: ShapeArg): void;
  conv2dBackpropFilter(x: Float32Array, xShape: ShapeArg, dy: Float32Array, dyShape: ShapeArg, dfilter: Float32Array,
    filterShape: ShapeArg, geometry: ShapeArg): void;
  conv2dBackpropFilterRef(x: Float32Array, xShape: ShapeArg, dy: Float32Array, dyShape: ShapeArg, dfilter: Float32Array,
    filterShape: ShapeArg, geometry: ShapeArg): void;
  depthwiseConv2dBackpropFilter(x: Float32Array, xShape: ShapeArg, dy: Float32Array, dyShape: ShapeArg,
    dfilter: Float32Array, filterShape: ShapeArg, geometry: ShapeArg): void;
  depthwiseConv2dBackpropFilterRef(x: Float32Array, xShape: ShapeArg, dy: Float32Array, dyShape: ShapeArg,
    dfilter: Float32Array, filterShape: ShapeArg, geometry: ShapeArg): void;
  /** geometry: [batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft] */
  pool2d(type: 'max' | 'avg', x: NativeArray, geometry: ShapeArg, out: NativeArray): void;
  pool2dRef(type: 'max' | 'avg', x: NativeArray, geometry: ShapeArg, out: NativeArray): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, geometry: ShapeArg, dx: Float32Array): void;
  maxPoolGradRef(dy: Float32Array, x: Float32Array, geometry: ShapeArg, dx: Float32Array): void;
  avgPoolGrad(dy: Float32Array, geometry: ShapeArg, dx: Float32Array): void;
  avgPoolGradRef(dy: Float32Array, geometry: ShapeArg, dx: Float32Array): void;
  batchNorm(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null, varianceEpsilon: number, out: Float32Array): void;
  batchNormRef(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null, varianceEpsilon: number, out: Float32Array): void;
  resizeBilinear(images: NativeArray, imagesShape: ShapeArg, size: ShapeArg, alignCorners: boolean, halfPixelCenters: boolean, out: Float32Array): void;
  resizeBilinearRef(images: NativeArray, imagesShape: ShapeArg, size: ShapeArg, alignCorners: boolean, halfPixelCenters: boolean, out: Float32Array): void;
  resizeNearestNeighbor(images: NativeArray, imagesShape: ShapeArg, size: ShapeArg, alignCorners: boolean, halfPixelCenters: boolean, out: NativeArray): void;
  resizeNearestNeighborRef(images: NativeArray, imagesShape: ShapeArg, size: ShapeArg, alignCorners: boolean, halfPixelCenters: boolean, out: NativeArray): void;
  resizeBilinearGrad(dy: Float32Array, dyShape: ShapeArg, imagesShape: ShapeArg, alignCorners: boolean, dx: Float32Array): void;
  resizeBilinearGradRef(dy: Float32Array, dyShape: ShapeArg, imagesShape: ShapeArg, alignCorners: boolean, dx: Float32Array): void;
  resizeNearestNeighborGrad(dy: Float32Array, dyShape: ShapeArg, imagesShape: ShapeArg, alignCorners: boolean, dx: Float32Array): void;
  resizeNearestNeighborGradRef(dy: Float32Array, dyShape: ShapeArg, imagesShape: ShapeArg, alignCorners: boolean, dx: Float32Array): void;
  transpose(x: NativeArray, xShape: ShapeArg, perm: ShapeArg, out: NativeArray): void;
  transposeRef(x: NativeArray, xShape: ShapeArg, perm: ShapeArg, out: NativeArray): void;
  stridedSlice(x: NativeArray, xShape: ShapeArg, begin: ShapeArg, strides: ShapeArg, size: ShapeArg, out: NativeArray): void;
  stridedSliceRef(x: NativeArray, xShape: ShapeArg, begin: ShapeArg, strides: ShapeArg, size: ShapeArg, out: NativeArray): void;
  reverse(x: NativeArray, xShape: ShapeArg, axes: ShapeArg, out: NativeArray): void;
  reverseRef(x: NativeArray, xShape: ShapeArg, axes: ShapeArg, out: NativeArray): void;
  tile(x: NativeArray, xShape: ShapeArg, reps: ShapeArg, out: NativeArray): void;
  tileRef(x: NativeArray, xShape: ShapeArg, reps: ShapeArg, out: NativeArray): void;
  pad(x: NativeArray, xShape: ShapeArg, before: ShapeArg, after: ShapeArg, value: number, out: NativeArray): void;
  padRef(x: NativeArray, xShape: ShapeArg, before: ShapeArg, after: ShapeArg, value: number, out: NativeArray): void;
  mirrorPad(x: NativeArray, xShape: ShapeArg, before: ShapeArg, after: ShapeArg, mode: 'reflect' | 'symmetric', out: NativeArray): void;
  mirrorPadRef(x: NativeArray, xShape: ShapeArg, before: ShapeArg, after: ShapeArg, mode: 'reflect' | 'symmetric', out: NativeArray): void;
  concat(xs: readonly NativeArray[], shapes: readonly ShapeArg[], axis: number, out: NativeArray): void;
  concatRef(xs: readonly NativeArray[], shapes: readonly ShapeArg[], axis: number, out: NativeArray): void;
  split(x: NativeArray, xShape: ShapeArg, axis: number, sizes: ShapeArg, outs: readonly NativeArray[]): void;
  splitRef(x: NativeArray, xShape: ShapeArg, axis: number, sizes: ShapeArg, outs: readonly NativeArray[]): void;
  gather(x: NativeArray, xShape: ShapeArg, indices: Int32Array, indicesShape: ShapeArg, axis: number, batchDims: number, out: NativeArray): void;
  gatherRef(x: NativeArray, xShape: ShapeArg, indices: Int32Array, indicesShape: ShapeArg, axis: number, batchDims: number, out: NativeArray): void;
  gatherNd(params: NativeArray, paramsShape: ShapeArg, indices: Int32Array, indicesShape: ShapeArg, out: NativeArray): void;
  gatherNdRef(params: NativeArray, paramsShape: ShapeArg, indices: Int32Array, indicesShape: ShapeArg, out: NativeArray): void;
  oneHot(indices: Int32Array, depth: number, onValue: number, offValue: number, out: NativeArray): void;
  oneHotRef(indices: Int32Array, depth: number, onValue: number, offValue: number, out: NativeArray): void;
  /** attr0: alpha for Step and LeakyRelu, clipValueMin for ClipByValue; attr1: clipValueMax. */
  unary(op: string, x: NativeArray, out: NativeArray, attr0?: number, attr1?: number): void;
  unaryRef(op: string, x: NativeArray, out: NativeArray, attr0?: number, attr1?: number): void;
  cast(x: NativeArray, out: NativeArray): void;
  castRef(x: NativeArray, out: NativeArray): void;
  fill(out: NativeArray, value: number): void;
  fillRef(out: NativeArray, value: number): void;
  select(condition: Uint8Array, t: NativeArray, e: NativeArray, out: NativeArray): void;
  selectRef(condition: Uint8Array, t: NativeArray, e: NativeArray, out: NativeArray): void;
  addN(out: NativeArray, ...inputs: NativeArray[]): void;
  addNRef(out: NativeArray, ...inputs: NativeArray[]): void;
  prelu(x: NativeArray, xShape: ShapeArg, alpha: NativeArray, alphaShape: ShapeArg, out: Float32Array): void;
  preluRef(x: NativeArray, xShape: ShapeArg, alpha: NativeArray, alphaShape: ShapeArg, out: Float32Array): void;
  eluGrad(dy: Float32Array, y: Float32Array, out: Float32Array): void;
  eluGradRef(dy: Float32Array, y: Float32Array, out: Float32Array): void;
  reduce(op: string, x: NativeArray, shape: ShapeArg, axes: readonly number[], out: NativeArray): void;
  reduceRef(op: string, x: NativeArray, shape: ShapeArg, axes: readonly number[], out: NativeArray): void;
  softmax(logits: Float32Array, shape: ShapeArg, out: Float32Array): void;
  softmaxRef(logits: Float32Array, shape: ShapeArg, out: Float32Array): void;
  scan(op: string, x: NativeArray, shape: ShapeArg, axis: number, exclusive: boolean, reverse: boolean, out: NativeArray): void;
  scanRef(op: string, x: NativeArray, shape: ShapeArg, axis: number, exclusive: boolean, reverse: boolean, out: NativeArray): void;
  topK(x: NativeArray, shape: ShapeArg, k: number, sorted: boolean, values: NativeArray, indices: Int32Array): void;
  topKRef(x: NativeArray, shape: ShapeArg, k: number, sorted: boolean, values: NativeArray, indices: Int32Array): void;
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
  /**
   * One variant of the convolution lab (native/cpu/conv_lab.h): a, b, out are (x, filter, y),
   * (dy, filter, dx) or (x, dy, dfilter) by pass; options [tileRows, tileCols, chunkPixels,
   * blockRows, rowTiles, filterMode, inputMode] (0: the engine's choice). False where it does not apply.
   */
  convLab(pass: 'forward' | 'input' | 'filter', variant: number, xShape: ShapeArg, filterShape: ShapeArg, geometry: ShapeArg,
    a: Float32Array, b: Float32Array, out: Float32Array, options: number[]): boolean;
  convLabVariants(pass: 'forward' | 'input' | 'filter'): { name: string; available: boolean; tiles: string[] }[];
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

/** The MPI engine's exports, or undefined when the addon was built without MPI. */
export const nativeMpi: NativeMpi | undefined =
  typeof (native as unknown as Partial<NativeMpi>).commWorld === 'function' ? (native as unknown as NativeMpi) : undefined;
