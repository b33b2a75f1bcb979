// BatchMatMul and _FusedMatMul: the tiled GEMM of matmul.wgsl with plain-matrix loaders
// (transposes handled in the tile loads), or matmul_dot.wgsl for small outputs (matrix times
// vector, a few outputs over a long K), where a 64x64 tile would mostly compute nothing.
// Batches follow tfjs-backend-cpu: output batch b reads matrix b % batchA of a and b % batchB
// of b. float32 only; int32 (whose tfjs-backend-cpu result is rounded JS arithmetic) and
// shapes tfjs would reject run on tessera-cpu, which also raises tfjs's errors.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { broadcast_util, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { fillTemplate, Meta, metaPrelude, wgslSource } from '../wgsl.js';
import { bindingsFor, EPILOGUE_WORD, makeEpilogue, META_WORDS, NO_EPILOGUE, padMeta, runGemm, type Epilogue, type EpilogueSpec } from './matmul_gemm.js';

interface MatMulShape {
  M: number;
  N: number;
  K: number;
  batch: number;
  batchA: number;
  batchB: number;
  outShape: number[];
}

/** The product's geometry as tfjs-backend-cpu computes it, or null for shapes it rejects or mishandles. */
function matMulShape(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): MatMulShape | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  if (K !== (transB ? b.shape[rb - 1] : b.shape[rb - 2])) return null;
  const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  let outBatch: number[];
  try {
    outBatch = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return null;
  }
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  const batch = util.sizeFromShape(outBatch);
  // tfjs-backend-cpu computes max(batchA, batchB) matrices; where that is not the broadcast
  // shape's count (e.g. [2, 1] against [1, 3]) its result is malformed: leave it to it.
  if (batch !== Math.max(batchA, batchB) && batch !== 0) return null;
  return { M, N, K, batch, batchA, batchB, outShape: [...outBatch, M, N] };
}

// Outputs per matrix up to which matmul_dot.wgsl replaces the 64x64 tiles (which would be at
// most a quarter used), and the K up to which one invocation sums a whole output.
const DOT_MAX_OUTPUTS = 1024;
const DOT_SHORT_K = 64;

function runDot(backend: TesseraWebGpuBackend, a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean, s: MatMulShape,
  epilogue: Epilogue): TensorInfo {
  const { M, N, K, batch } = s;
  // The operand each output reads a row or column of: contiguous along k?
  // Lanes per output: 1 for short K (one invocation sums it all; no reduction), 4 when a
  // matrix times a vector reads the matrix across k (64 neighbouring outputs then read
  // neighbouring words), 32 otherwise (consecutive lanes read consecutive k).
  const matrixVector = (M === 1) !== (N === 1);
  const contiguous = M === 1 ? transB : !transA;
  const lanes = K <= DOT_SHORT_K ? 1 : matrixVector && !contiguous && K < 1024 ? 4 : 32;
  const outputs = batch * M * N;
  const { text, metaBinding } = bindingsFor(['lhs', 'rhs'], epilogue);
  const program = {
    key: `matmul-dot/${lanes}/${epilogue.key}`,
    wgsl: () => fillTemplate(wgslSource('matmul_dot'), { BINDINGS: text, META: metaPrelude(metaBinding, META_WORDS), LANES: lanes, EPILOGUE: epilogue.wgsl() }),
  };
  const meta = new Meta().u32(M, N, K, outputs, s.batchA, s.batchB);
  meta.u32(transA ? 1 : K, transA ? M : 1, transB ? 1 : N, transB ? K : 1);
  padMeta(meta, EPILOGUE_WORD);
  epilogue.write(meta);
  const groups = Math.ceil(outputs / (256 / lanes));
  return backend.runProgram(program, [a, b, ...epilogue.inputs], s.outShape, 'float32', padMeta(meta, META_WORDS).build(),
    workgroupsFor(groups, 1, backend.device.limits.maxComputeWorkgroupsPerDimension));
}

/** a x b (with transposes) and the epilogue, on the GPU; null when the WGSL does not take the inputs. */
export function gpuMatMul(backend: TesseraWebGpuBackend, a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean,
  spec: EpilogueSpec | null): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const s = matMulShape(a, b, transA, transB);
  if (s === null) return null;
  const epilogue = spec === null ? NO_EPILOGUE : makeEpilogue(spec, s.outShape);
  if (epilogue === null) return null;
  const { M, N, batch } = s;
  if (batch * M * N === 0) return backend.makeOutput(s.outShape, 'float32');
  if (M === 1 || N === 1 || M * N <= DOT_MAX_OUTPUTS) {
    return runDot(backend, a, b, transA, transB, s, epilogue);
  }
  return matmulGemm(backend, a, b, s, transA, transB, epilogue);
}

/** The tiled GEMM over row-major matrices (transposes in the tile loads). */
function matmulGemm(backend: TesseraWebGpuBackend, a: TensorInfo, b: TensorInfo, s: MatMulShape, transA: boolean, transB: boolean,
  epilogue: Epilogue): TensorInfo {
  return runGemm(backend, {
    loadersKey: `matmul/${transA ? 'tA' : 'A'}${transB ? 'tB' : 'B'}`,
    loaders: () => fillTemplate(wgslSource('matmul_loaders'), { TRANS_A: String(transA), TRANS_B: String(transB) }),
    // Non-transposed A is contiguous along k; non-transposed B along n.
    aKFast: !transA,
    bNFast: !transB,
    lhs: a,
    rhs: b,
    M: s.M,
    N: s.N,
    K: s.K,
    batch: s.batch,
    loaderWords: (meta) => meta.u32(s.batchA, s.batchB),
    epilogue,
    outShape: s.outShape,
  });
}

/**
 * One plain row-major product [M, K] x [K, N] (either transposed) over the storage of `a` and
 * `b` whatever their shapes, written as `outShape`: convolutions that are matrix products
 * (1x1 filters, or a filter as large as the input) take this.
 */
export function plainGemm(backend: TesseraWebGpuBackend, a: TensorInfo, b: TensorInfo, M: number, N: number, K: number, transA: boolean,
  transB: boolean, epilogue: Epilogue, outShape: number[]): TensorInfo {
  return matmulGemm(backend, a, b, { M, N, K, batch: 1, batchA: 1, batchB: 1, outShape }, transA, transB, epilogue);
}

type Attrs = { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };
type Inputs = { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };

export const matmulKernelConfigs: KernelConfig[] = [
  gpuKernelConfig('BatchMatMul', ({ inputs, attrs }, backend) => {
    const { a, b } = inputs as Inputs;
    const { transposeA = false, transposeB = false } = (attrs ?? {}) as Attrs;
    return gpuMatMul(backend, a, b, transposeA, transposeB, null);
  }),
  gpuKernelConfig('_FusedMatMul', ({ inputs, attrs }, backend) => {
    const { a, b, bias, preluActivationWeights } = inputs as Inputs;
    const { transposeA = false, transposeB = false, activation, leakyreluAlpha } = (attrs ?? {}) as Attrs;
    return gpuMatMul(backend, a, b, transposeA, transposeB, { bias, preluActivationWeights, activation, leakyreluAlpha });
  }),
];
