// Shared adapter for MaxPool and AvgPool: tfjs attrs resolved with tfjs's computePool2DInfo,
// the identity shortcut tfjs-backend-cpu takes (a 1x1 filter keeping the shape returns x
// itself, NaN included), and tfjs-backend-cpu for anything the native kernels do not take.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { avgPool, maxPool, resolvePool2D, type DimRoundingMode, type PoolPadding, type PoolSize } from '../../kernels/pool.js';
import { nativeKernelConfig, type KernelArgs } from '../fallback.js';

export interface PoolAttrs {
  filterSize: PoolSize;
  strides: PoolSize;
  pad: PoolPadding;
  dimRoundingMode?: DimRoundingMode;
}

export function poolKernelConfig(kernelName: 'MaxPool' | 'AvgPool'): KernelConfig {
  const run = kernelName === 'MaxPool' ? maxPool : avgPool;
  return nativeKernelConfig(
    kernelName,
    ({ inputs, attrs }: KernelArgs) => {
      const { x } = inputs as { x: TensorInfo };
      const a = attrs as unknown as PoolAttrs;
      return (x.dtype === 'float32' || x.dtype === 'int32') &&
        resolvePool2D(x.shape, a.filterSize, a.strides, a.pad, a.dimRoundingMode) !== undefined;
    },
    ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      const a = attrs as unknown as PoolAttrs;
      if (resolvePool2D(x.shape, a.filterSize, a.strides, a.pad, a.dimRoundingMode)!.isIdentity) {
        backend.incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      }
      return backend.adopt(run(backend.view(x), a.filterSize, a.strides, a.pad, a.dimRoundingMode));
    },
  );
}
