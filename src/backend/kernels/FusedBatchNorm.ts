// FusedBatchNorm: inputs x, mean, variance and optional offset and scale; attr
// varianceEpsilon (tfjs-backend-cpu uses 0.001 when it is missing).
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { batchNorm } from '../../kernels/pool.js';
import { nativeKernelConfig } from '../fallback.js';

interface BatchNormInputs {
  x: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  offset?: TensorInfo;
  scale?: TensorInfo;
}

export const fusedBatchNormConfig = nativeKernelConfig(
  'FusedBatchNorm',
  ({ inputs, attrs }) => {
    const { x, mean, variance, offset, scale } = inputs as unknown as BatchNormInputs;
    const params = [mean, variance, offset, scale].filter((p): p is TensorInfo => p != null);
    // tfjs-backend-cpu asserts equal parameter ranks and reads missing values as NaN;
    // leaving those cases to it keeps its errors and results.
    return x.dtype === 'float32' &&
      params.every((p) => p.dtype === 'float32' && p.shape.length === mean.shape.length && p.shape.every((d) => d > 0)) &&
      typeof (attrs?.varianceEpsilon ?? 0.001) === 'number';
  },
  ({ inputs, attrs }, backend) => {
    const { x, mean, variance, offset, scale } = inputs as unknown as BatchNormInputs;
    const varianceEpsilon = (attrs?.varianceEpsilon ?? 0.001) as number;
    return backend.adopt(batchNorm(
      backend.view(x), backend.view(mean), backend.view(variance),
      offset == null ? undefined : backend.view(offset), scale == null ? undefined : backend.view(scale), varianceEpsilon));
  },
);
