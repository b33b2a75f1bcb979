// Kernels that change only a tensor's shape: they return the input's storage (another
// reference to it), so a reshape never moves data between the GPU and the CPU.
import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { gpuKernelConfig } from '../../backend_webgpu.js';

export const shapeKernelConfigs: KernelConfig[] = [
  gpuKernelConfig('Reshape', ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const size = util.sizeFromShape(x.shape);
    const shape = util.inferFromImplicitShape(attrs!.shape as number[], size);
    const newSize = util.sizeFromShape(shape);
    util.assert(size === newSize, () => `The new shape (${shape}) has ${newSize} elements and the old shape (${x.shape}) has ${size} elements. The new shape and old shape must have the same number of elements.`);
    backend.incRef(x.dataId);
    const parts = backend.data.get(x.dataId).complexTensorInfos;
    if (parts !== undefined) {
      parts.real.shape = shape;
      parts.imag.shape = shape;
    }
    return { dataId: x.dataId, shape, dtype: x.dtype };
  }),
  gpuKernelConfig('Identity', ({ inputs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }),
];
