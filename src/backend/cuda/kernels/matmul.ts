// BatchMatMul and _FusedMatMul on CUDA (kernels/cuda/sgemm.cu): the backend's matmulPrecision
// picks exact fp32 (default) or the TF32/BF16 tensor cores.
import { backend_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { cudaKernelConfig, type TesseraCudaBackend } from '../../backend_cuda.js';
import type { CudaActivation } from '../../../native.js';

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid']);

/** The GEMM view of a batched product, or undefined where the batch dims do not broadcast simply. */
export function matMulGeometry(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean):
  { batch: number; m: number; n: number; k: number; aBatched: boolean; bBatched: boolean; outShape: number[] } | undefined {
  if (aShape.length < 2 || bShape.length < 2) return undefined;
  const ra = aShape.length, rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (k !== kb) return undefined;
  const outerA = aShape.slice(0, -2), outerB = bShape.slice(0, -2);
  let outer: number[];
  try {
    outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  // Each side is one matrix for every batch entry, or one matrix per entry in the output's order.
  const batch = util.sizeFromShape(outer);
  const batchA = util.sizeFromShape(outerA), batchB = util.sizeFromShape(outerB);
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return undefined;
  return { batch, m, n, k, aBatched: batchA > 1, bBatched: batchB > 1, outShape: [...outer, m, n] };
}

function run(backend: TesseraCudaBackend, a: TensorInfo, b: TensorInfo, attrs: Record<string, unknown>, bias: TensorInfo | undefined,
  activation: string): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const transposeA = attrs.transposeA === true, transposeB = attrs.transposeB === true;
  const g = matMulGeometry(a.shape, b.shape, transposeA, transposeB);
  if (g === undefined || !ACTIVATIONS.has(activation)) return null;
  // A bias of n elements broadcast over rows ([n], [1, n], ...); other shapes take the CPU path.
  if (bias !== undefined && (bias.dtype !== 'float32' || util.sizeFromShape(bias.shape) !== g.n || (bias.shape.length > 0 && bias.shape[bias.shape.length - 1] !== g.n))) return null;
  // No batch entries: nothing to compute (the bindings would expect one matrix per unbatched side).
  if (g.batch === 0) return backend.makeOutput(g.outShape, 'float32');
  const leakyAlpha = typeof attrs.leakyreluAlpha === 'number' ? attrs.leakyreluAlpha : 0.2;
  const ka = backend.cudaBuffer(a), kb = backend.cudaBuffer(b);
  const kbias = bias === undefined ? null : backend.cudaBuffer(bias);
  return backend.launch(g.outShape, 'float32', (out) => backend.device.kernels.cudaMatMul(ka, kb, out, g.batch, g.m, g.n, g.k, transposeA,
    transposeB, g.aBatched ? g.m * g.k : 0, g.bBatched ? g.k * g.n : 0, kbias, activation as CudaActivation, leakyAlpha, backend.matmulPrecision));
}

export const matMulKernelConfigs: KernelConfig[] = [
  cudaKernelConfig('BatchMatMul', ({ inputs, attrs = {} }, backend) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    return run(backend, a, b, attrs as Record<string, unknown>, undefined, 'linear');
  }),
  cudaKernelConfig('_FusedMatMul', ({ inputs, attrs = {} }, backend) => {
    const { a, b, bias } = inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
    const activation = ((attrs as Record<string, unknown>).activation ?? 'linear') as string;
    return run(backend, a, b, attrs as Record<string, unknown>, bias ?? undefined, activation);
  }),
];
