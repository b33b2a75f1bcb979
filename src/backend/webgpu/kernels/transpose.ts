// Transpose on tessera-webgpu. The permutation becomes an affine map (movement.ts), which
// merges the input dims that stay together; what is left is one of
// - nothing to move (the perm only moves extent-1 dims): the input's storage, shared;
// - a swap of the last two dims, batched or not ([B, R, C] -> [B, C, R], which is also what
//   NHWC <-> NCHW reduces to): the tiled workgroup-memory shader, transpose_tiled.wgsl,
//   which reads and writes whole rows;
// - anything else: the generic affine shader (reads gathered, writes coalesced).
import type { KernelConfig, TensorInfo, TransposeAttrs } from '@tensorflow/tfjs-core';
import { Transpose, util } from '@tensorflow/tfjs-core';

import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';
import { affineGather, isWordDType, simplify, stridesOf, type AffineMap } from './movement.js';

// Below this many rows or columns a 32x32 tile is mostly idle: the generic shader does better.
const MIN_TILED_EXTENT = 8;
const MAX_GRID = 65535;

/** The affine map of a transpose: output dim j walks input dim perm[j]. */
export function transposeMap(shape: readonly number[], perm: readonly number[]): AffineMap {
  const strides = stridesOf(shape);
  return { base: 0, dims: perm.map((p) => ({ extent: shape[p], stride: strides[p] })) };
}

/** [B, R, C] when `map` (simplified) reads a batched 2-D transpose of an [B, R, C] source, else null. */
function batchedSwap(map: AffineMap): [number, number, number] | null {
  const { base, dims } = map;
  if (base !== 0) return null;
  if (dims.length === 2) {
    const [c, r] = dims;
    if (c.stride === 1 && r.stride === c.extent) return [1, r.extent, c.extent];
  } else if (dims.length === 3) {
    const [b, c, r] = dims;
    if (c.stride === 1 && r.stride === c.extent && b.stride === r.extent * c.extent) return [b.extent, r.extent, c.extent];
  }
  return null;
}

export function transposeGpu(backend: TesseraWebGpuBackend, x: TensorInfo, perm: readonly number[]): TensorInfo | null {
  if (!isWordDType(x.dtype) || perm.length !== x.shape.length) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const size = util.sizeFromShape(outShape);
  const map = simplify(transposeMap(x.shape, perm));
  const swap = size > 0 ? batchedSwap(map) : null;
  if (swap !== null) {
    const [b, r, c] = swap;
    const gx = Math.ceil(c / 32);
    const gy = Math.ceil(r / 32);
    if (r >= MIN_TILED_EXTENT && c >= MIN_TILED_EXTENT && gx <= MAX_GRID && gy <= MAX_GRID && b <= MAX_GRID) {
      const meta = new Meta().u32(r, c);
      const program = templateProgram('transpose/tiled', 'transpose_tiled', 2, meta.length);
      return backend.runProgram(program, [x], outShape, x.dtype, meta.build(), [gx, gy, b]);
    }
  }
  return affineGather(backend, x, outShape, x.dtype, map);
}

export const transposeKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(Transpose, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { perm } = attrs as unknown as TransposeAttrs;
    return transposeGpu(backend, x, perm);
  }),
];
