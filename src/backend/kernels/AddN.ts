// AddN of float32 or int32 tensors of one shape; bool (which tfjs-backend-cpu sums into a
// Uint8Array) and mixed inputs go to tfjs-backend-cpu.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { addN } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { sameShape } from '../../kernels/array.js';

export const addNConfig = nativeKernelConfig(
  'AddN',
  ({ inputs }) => {
    const xs = inputs as unknown as TensorInfo[];
    if (!Array.isArray(xs) || xs.length === 0) return false;
    const [first] = xs;
    return (first.dtype === 'float32' || first.dtype === 'int32') &&
      xs.every((x) => x.dtype === first.dtype && sameShape(x.shape, first.shape));
  },
  ({ inputs }, backend) => backend.adopt(addN((inputs as unknown as TensorInfo[]).map((x) => backend.view(x)))),
);
