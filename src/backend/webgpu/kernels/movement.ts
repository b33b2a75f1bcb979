// Shared data-movement machinery for tessera-webgpu (kernels/wgsl/movement.wgsl): most layout
// kernels are an affine map from output coordinates to input offsets,
//   out[i] = x[base + sum_d coord_d(i) * stride_d],
// Slice (strides = x's), StridedSlice (x's strides times the slice's, possibly negative),
// Reverse (negative strides from the far end), Transpose (x's strides permuted). One
// simplifier brings every such map to its fewest dims, and then:
// - a map that reads one contiguous run is a buffer-to-buffer copy (no shader), or the input's
//   own storage when it is all of it;
// - otherwise one dispatch of the affine shader, moving vec4s when the innermost dim is
//   contiguous and everything is a multiple of four words.
// Elements move as raw 32-bit words: float32, int32 and bool (u32 0/1) share the shaders.
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { GPU_ELEMENT_BYTES, workgroupsFor } from '../../../device/webgpu.js';
import type { TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';

/** Dims the affine shader takes after merging (a loop bound compiled into the shader). */
export const MAX_AFFINE_RANK = 8;

/** The dtypes whose elements are 32-bit words on the GPU. */
export function isWordDType(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

export interface AffineDim {
  extent: number;
  /** In elements of the source; negative walks backwards. */
  stride: number;
}

export interface AffineMap {
  /** Offset of output element 0 in the source. */
  base: number;
  /** Output dims, outermost first. */
  dims: AffineDim[];
}

/**
 * The same map with the fewest dims: extent-1 dims dropped, and each dim merged into the one
 * outside it when stepping the inner dim past its end lands where the outer dim's step goes
 * (outer.stride === inner.stride * inner.extent, either sign).
 */
export function simplify(map: AffineMap): AffineMap {
  const dims: AffineDim[] = [];
  for (const d of map.dims) {
    if (d.extent === 1) continue;
    dims.push({ ...d });
  }
  const merged: AffineDim[] = [];
  for (let k = dims.length - 1; k >= 0; k--) {
    const outer = dims[k];
    const inner = merged[0];
    if (inner !== undefined && outer.stride === inner.stride * inner.extent) {
      inner.extent *= outer.extent;
    } else {
      merged.unshift(outer);
    }
  }
  return { base: map.base, dims: merged };
}

/** Row-major strides of `shape`, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** A new tensor of `shape` holding x's words from `offset` (elements) on: one buffer copy. */
export function copyRange(backend: TesseraWebGpuBackend, x: TensorInfo, offset: number, shape: number[], dtype: DataType): TensorInfo {
  const size = util.sizeFromShape(shape);
  const out = backend.makeOutput(shape, dtype);
  if (size > 0) {
    backend.device.copy(backend.gpuBuffer(x), offset * GPU_ELEMENT_BYTES, backend.gpuBuffer(out), 0, size * GPU_ELEMENT_BYTES);
  }
  return out;
}

/**
 * out (shape `outShape`, dtype `dtype`) = x through `map`, or null when the map needs more
 * dims than the shader takes (the caller then falls back). `map` must stay inside x.
 */
export function affineGather(backend: TesseraWebGpuBackend, x: TensorInfo, outShape: number[], dtype: DataType, map: AffineMap): TensorInfo | null {
  const size = util.sizeFromShape(outShape);
  if (size === 0) return backend.makeOutput(outShape, dtype);
  const { base, dims } = simplify(map);
  const inner = dims[dims.length - 1];
  if (dims.length === 0 || (dims.length === 1 && inner.stride === 1)) {
    // One contiguous run: all of x is x itself (tensors are immutable), a part is a copy.
    if (base === 0 && size === util.sizeFromShape(x.shape) && dtype === x.dtype) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: outShape, dtype };
    }
    return copyRange(backend, x, base, outShape, dtype);
  }
  if (dims.length > MAX_AFFINE_RANK) return null;
  // vec4: the innermost dim contiguous and every offset a multiple of four words.
  const vec4 = inner.stride === 1 && inner.extent % 4 === 0 && base % 4 === 0 && dims.every((d, k) => k === dims.length - 1 || d.stride % 4 === 0);
  const q = vec4 ? 4 : 1;
  const meta = new Meta().u32(size / q).i32(base / q);
  for (let k = 0; k < dims.length; k++) {
    const last = k === dims.length - 1;
    meta.u32(last ? dims[k].extent / q : dims[k].extent).i32(last ? dims[k].stride : dims[k].stride / q);
  }
  const w = vec4 ? 'vec4<u32>' : 'u32';
  const program = templateProgram(`movement/affine/${dims.length}/${vec4 ? 'vec4' : 'u32'}`, 'movement', 2, meta.length, { RANK: dims.length, W: w });
  return backend.runProgram(program, [x], outShape, dtype, meta.build(), workgroupsFor(size / q, 256));
}
