// AvgPoolGrad: inputs dy and input (only its shape is read). tfjs-backend-cpu resolves the
// geometry without dimRoundingMode, and so does this.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { avgPoolGrad, resolvePool2D } from '../../kernels/pool.js';
import { nativeKernelConfig } from '../fallback.js';
import type { PoolAttrs } from './pool_kernel.js';

export const avgPoolGradConfig = nativeKernelConfig(
  'AvgPoolGrad',
  ({ inputs, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    if (dy.dtype !== 'float32' || input.dtype === 'complex64' || input.dtype === 'string') return false;
    const g = resolvePool2D(input.shape, a.filterSize, a.strides, a.pad);
    return g !== undefined && dy.shape.length === 4 && dy.shape.every((d, i) => d === g.outShape[i]);
  },
  ({ inputs, attrs }, backend) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    return backend.adopt(avgPoolGrad(backend.view(dy), backend.view(input), a.filterSize, a.strides, a.pad));
  },
);
