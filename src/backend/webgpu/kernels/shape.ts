// Kernels that change only a tensor's shape: they return the input's storage (another
// reference to it), so a reshape never moves data between the GPU and the CPU.
import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';

function reshapeTo(x: TensorInfo, requested: number[], backend: TesseraWebGpuBackend): TensorInfo {
  const size = util.sizeFromShape(x.shape);
  const shape = util.inferFromImplicitShape(requested, size);
  const newSize = util.sizeFromShape(shape);
  util.assert(size === newSize, () => `The new shape (${shape}) has ${newSize} elements and the old shape (${x.shape}) has ${size} elements. The new shape and old shape must have the same number of elements.`);
  backend.incRef(x.dataId);
  const parts = backend.data.get(x.dataId).complexTensorInfos;
  if (parts !== undefined) {
    parts.real.shape = shape;
    parts.imag.shape = shape;
  }
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

export const shapeKernelConfigs: KernelConfig[] = [
  gpuKernelConfig('Reshape', ({ inputs, attrs }, backend) => reshapeTo((inputs as { x: TensorInfo }).x, attrs!.shape as number[], backend)),
  gpuKernelConfig('ExpandDims', ({ inputs, attrs }, backend) => {
    const { input } = inputs as { input: TensorInfo };
    const rank = input.shape.length;
    let dim = attrs!.dim as number;
    if (dim < 0) {
      util.assert(-(rank + 1) <= dim, () => `Axis must be in the interval [${-(rank + 1)}, ${rank}]`);
      dim = rank + dim + 1;
    }
    const shape = input.shape.slice();
    shape.splice(dim, 0, 1);
    return reshapeTo(input, shape, backend);
  }),
  gpuKernelConfig('Identity', ({ inputs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }),
];
