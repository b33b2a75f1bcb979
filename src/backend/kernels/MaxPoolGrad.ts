// MaxPoolGrad: inputs dy, input (x) and output; like tfjs-backend-cpu, the argmax is found
// again from x and `output` is not read.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { maxPoolGrad, resolvePool2D } from '../../kernels/pool.js';
import { nativeKernelConfig } from '../fallback.js';
import type { PoolAttrs } from './pool_kernel.js';

export const maxPoolGradConfig = nativeKernelConfig(
  'MaxPoolGrad',
  ({ inputs, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    if (dy.dtype !== 'float32' || input.dtype !== 'float32') return false;
    const g = resolvePool2D(input.shape, a.filterSize, a.strides, a.pad, a.dimRoundingMode);
    return g !== undefined && dy.shape.length === 4 && dy.shape.every((d, i) => d === g.outShape[i]);
  },
  ({ inputs, attrs }, backend) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    return backend.adopt(maxPoolGrad(backend.view(dy), backend.view(input), a.filterSize, a.strides, a.pad, a.dimRoundingMode));
  },
);
