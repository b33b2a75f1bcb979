// Shared pieces of the data-movement kernels: which tensors the native code takes, and the
// kernels that only relabel a tensor's data (Reshape, Identity, ExpandDims): like
// tfjs-backend-cpu's, they share the input's data id (one more reference) instead of copying.
import { util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';

import type { TesseraCpuBackend } from '../backend_cpu.js';

export function isNativeDType(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

export function allNative(tensors: readonly TensorInfo[]): boolean {
  return tensors.every((t) => isNativeDType(t.dtype));
}

/** x's data under another shape: tfjs-backend-cpu's Reshape, complex64 included. */
export function reshapeData(backend: TesseraCpuBackend, x: TensorInfo, shape: number[]): TensorInfo {
  const xSize = util.sizeFromShape(x.shape);
  const $shape = util.inferFromImplicitShape(shape, xSize);
  const $xSize = util.sizeFromShape($shape);
  util.assert(xSize === $xSize, () => `The new shape (${$shape}) has ${$xSize} elements and the old ` +
    `shape (${x.shape}) has ${xSize} elements. The new shape and old ` +
    `shape must have the same number of elements.`);
  backend.incRef(x.dataId);
  const entry = backend.data.get(x.dataId);
  if (entry.complexTensorInfos != null) {
    // A complex tensor's parts carry its shape too (tfjs-backend-cpu's Reshape updates them the same way).
    entry.complexTensorInfos.real.shape = $shape;
    entry.complexTensorInfos.imag.shape = $shape;
  }
  return { dataId: x.dataId, shape: $shape, dtype: x.dtype };
}

/** x's data as a new tensor: tfjs-backend-cpu's Identity. */
export function shareData(backend: TesseraCpuBackend, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
