// Reshape, ExpandDims, Identity and same-dtype Cast (storage shared, nothing moves), ZerosLike
// and OnesLike (a new CPU-side tensor: the input is never read back), Transpose and GatherV2 on CUDA
// (kernels/cuda/transpose.cu, gather.cu).
import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { cudaKernelConfig } from '../../backend_cuda.js';
import { typedArrayFor } from '../../device_backend.js';

const MAX_RANK = 8;
const NUMERIC = new Set(['float32', 'int32', 'bool']);

export const layoutKernelConfigs: KernelConfig[] = [
  cudaKernelConfig('Reshape', ({ inputs, attrs = {} }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const shape = util.inferFromImplicitShape((attrs as { shape: number[] }).shape, util.sizeFromShape(x.shape));
    util.assert(util.sizeFromShape(shape) === util.sizeFromShape(x.shape),
      () => `The new shape (${shape}) has ${util.sizeFromShape(shape)} elements and the old shape (${x.shape}) has ${util.sizeFromShape(x.shape)} elements. The new shape and old shape must have the same number of elements.`);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape, dtype: x.dtype };
  }),
  cudaKernelConfig('ExpandDims', ({ inputs, attrs = {} }, backend) => {
    const { input } = inputs as { input: TensorInfo };
    const dim = (attrs as { dim: number }).dim;
    const rank = input.shape.length;
    // Out-of-range axes go to tessera-cpu, which raises tfjs's error.
    if (!Number.isInteger(dim) || dim < -(rank + 1) || dim > rank) return null;
    const shape = input.shape.slice();
    shape.splice(dim < 0 ? rank + dim + 1 : dim, 0, 1);
    backend.incRef(input.dataId);
    return { dataId: input.dataId, shape, dtype: input.dtype };
  }),
  cudaKernelConfig('Identity', ({ inputs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }),
  // Other casts convert values (int32 -> float32 is a new bit pattern on the device): CPU path.
  cudaKernelConfig('Cast', ({ inputs, attrs = {} }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    if (!NUMERIC.has(x.dtype) || (attrs as { dtype: string }).dtype !== x.dtype) return null;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }),
  ...(['ZerosLike', 'OnesLike'] as const).map((kernelName) => cudaKernelConfig(kernelName, ({ inputs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    if (!NUMERIC.has(x.dtype)) return null;
    const values = typedArrayFor(x.dtype, util.sizeFromShape(x.shape));
    if (kernelName === 'OnesLike') values.fill(1);
    return backend.makeTensorInfo(x.shape, x.dtype, values);
  })),
  cudaKernelConfig('Transpose', ({ inputs, attrs = {} }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const perm = (attrs as { perm: number[] }).perm;
    if (!NUMERIC.has(x.dtype) || x.shape.length > MAX_RANK || perm.length !== x.shape.length) return null;
    const outShape = perm.map((p) => x.shape[p]);
    const kx = backend.cudaBuffer(x);
    return backend.launch(outShape, x.dtype, (out) => backend.device.kernels.cudaTranspose(kx, x.shape, perm, out));
  }),
  cudaKernelConfig('GatherV2', ({ inputs, attrs = {} }, backend) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const a = attrs as { axis: number; batchDims?: number };
    if (!NUMERIC.has(x.dtype) || indices.dtype !== 'int32') return null;
    let axis: number;
    try {
      axis = util.parseAxisParam(a.axis, x.shape)[0];
    } catch {
      return null;
    }
    let batchDims = a.batchDims ?? 0;
    if (batchDims < 0) batchDims += indices.shape.length;
    if (batchDims < 0 || batchDims > axis || batchDims > indices.shape.length) return null;
    for (let d = 0; d < batchDims; d++) if (x.shape[d] !== indices.shape[d]) return null;
    // The device writes zeros for a bad index; tfjs-backend-cpu throws its error. Indices held
    // on the CPU are checked here so that the error is tfjs's; device-resident ones are not read back.
    const values = backend.cpuValues(indices) as Int32Array | undefined;
    if (values !== undefined && values.some((v) => v < 0 || v >= x.shape[axis])) return null;
    const outShape = [...x.shape.slice(0, axis), ...indices.shape.slice(batchDims), ...x.shape.slice(axis + 1)];
    const kx = backend.cudaBuffer(x), ki = backend.cudaBuffer(indices);
    return backend.launch(outShape, x.dtype, (out) => backend.device.kernels.cudaGather(kx, x.shape, ki, indices.shape, axis, batchDims, out));
  }),
];
