import type { TensorInfo } from '@tensorflow/tfjs-core';

import { topK } from '../../kernels/reduce.js';
import { nativeKernelConfig } from '../fallback.js';

export const topKConfig = nativeKernelConfig(
  'TopK',
  ({ inputs, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    const k = attrs?.k;
    const rank = x.shape.length;
    return (
      (x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool') &&
      rank >= 1 &&
      typeof k === 'number' &&
      Number.isInteger(k) &&
      k >= 0 &&
      k <= x.shape[rank - 1]
    );
  },
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { values, indices } = topK(backend.view(x), attrs!.k as number, Boolean(attrs!.sorted));
    return [backend.adopt(values), backend.adopt(indices)];
  },
);
