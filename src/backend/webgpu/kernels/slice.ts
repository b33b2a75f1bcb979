// Slice, StridedSlice, SplitV and Unpack on tessera-webgpu: all are affine maps (movement.ts),
// SplitV and Unpack one slice per output. A slice that
// reads one contiguous run (leading dims sliced, the rest whole) is a buffer copy; one of
// everything shares the input's storage; the rest is one dispatch of the affine shader
// (vec4 when rows are whole multiples of four words).
import type { KernelConfig, SliceAttrs, SplitVAttrs, StridedSliceAttrs, TensorInfo, UnpackAttrs } from '@tensorflow/tfjs-core';
import { backend_util, Slice, slice_util, SplitV, StridedSlice, Unpack, util } from '@tensorflow/tfjs-core';

import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { affineGather, isWordDType, stridesOf, type AffineMap } from './movement.js';

/**
 * x[begin + coord * step] over `size` (per dim; step defaults to 1), shaped `outShape`; null
 * when a coordinate would fall outside x (left to tessera-cpu, which reports it).
 */
export function stridedWindow(
  backend: TesseraWebGpuBackend, x: TensorInfo, begin: readonly number[], size: readonly number[], step: readonly number[] | null, outShape: number[],
): TensorInfo | null {
  const xStrides = stridesOf(x.shape);
  const map: AffineMap = { base: 0, dims: [] };
  for (let d = 0; d < x.shape.length; d++) {
    const s = step === null ? 1 : step[d];
    if (size[d] < 0 || !Number.isInteger(begin[d]) || !Number.isInteger(size[d])) return null;
    if (size[d] > 0) {
      const last = begin[d] + (size[d] - 1) * s;
      if (begin[d] < 0 || begin[d] >= x.shape[d] || last < 0 || last >= x.shape[d]) return null;
    }
    map.base += begin[d] * xStrides[d];
    map.dims.push({ extent: size[d], stride: xStrides[d] * s });
  }
  return affineGather(backend, x, outShape, x.dtype, map);
}

/** Slices of x along `axis`, the k-th of extent sizes[k], each shaped by `shapeOf`; null if one is refused. */
function splitAlong(backend: TesseraWebGpuBackend, x: TensorInfo, axis: number, sizes: number[], shapeOf: (size: number[]) => number[]): TensorInfo[] | null {
  const begin = new Array<number>(x.shape.length).fill(0);
  const outs: TensorInfo[] = [];
  for (const extent of sizes) {
    const size = [...x.shape];
    size[axis] = extent;
    const out = stridedWindow(backend, x, begin, size, null, shapeOf(size));
    if (out === null) {
      outs.forEach((t) => backend.disposeIntermediateTensorInfo(t));
      return null;
    }
    outs.push(out);
    begin[axis] += extent;
  }
  return outs;
}

export const sliceKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(Slice, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { begin, size } = attrs as unknown as SliceAttrs;
    if (!isWordDType(x.dtype)) return null;
    const [$begin, $size] = slice_util.parseSliceParams(x, begin, size);
    slice_util.assertParamsValid(x, $begin, $size);
    return stridedWindow(backend, x, $begin, $size, null, $size);
  }),
  gpuKernelConfig(StridedSlice, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask } = attrs as unknown as StridedSliceAttrs;
    if (!isWordDType(x.dtype)) return null;
    const info = slice_util.sliceInfo(x.shape, begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask);
    if (info.isIdentity) {
      // tfjs-backend-cpu reshapes x here: the same storage under the final shape.
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: info.finalShape, dtype: x.dtype };
    }
    // The extent of each dense dim, from the canonical begin/end/strides (as tessera-cpu
    // computes it; finalShape is the same elements with shrunk and new axes applied).
    const size = x.shape.map((_, d) => {
      const length = info.end[d] - info.begin[d];
      const stride = info.strides[d];
      if (length === 0 || length < 0 !== stride < 0) return 0;
      return Math.trunc(length / stride) + (length % stride !== 0 ? 1 : 0);
    });
    const total = size.reduce((p, d) => p * d, 1);
    if (total !== info.finalShape.reduce((p, d) => p * d, 1)) return null;
    return stridedWindow(backend, x, info.begin, size, info.strides, info.finalShape);
  }),
  gpuKernelConfig(SplitV, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { numOrSizeSplits, axis } = attrs as unknown as SplitVAttrs;
    if (!isWordDType(x.dtype)) return null;
    const $axis = util.parseAxisParam(axis, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
    return splitAlong(backend, x, $axis, sizes, (size) => size);
  }),
  gpuKernelConfig(Unpack, ({ inputs, attrs }, backend) => {
    const { value } = inputs as { value: TensorInfo };
    const { axis } = attrs as unknown as UnpackAttrs;
    if (!isWordDType(value.dtype)) return null;
    const $axis = axis < 0 ? axis + value.shape.length : axis;
    const outShape = value.shape.filter((_, i) => i !== $axis);
    return splitAlong(backend, value, $axis, new Array<number>(value.shape[$axis]).fill(1), () => outShape);
  }),
];
