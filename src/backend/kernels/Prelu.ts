// Prelu with alpha broadcast against x, any of float32, int32 and bool; shapes that do not
// broadcast go to tfjs-backend-cpu for its own error.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { prelu } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './unary_kernel.js';

type PreluInputs = { x: TensorInfo; alpha: TensorInfo };

function broadcastable(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const da = a[a.length - i];
    const db = b[b.length - i];
    if (da !== db && da !== 1 && db !== 1) return false;
  }
  return true;
}

export const preluConfig = nativeKernelConfig(
  'Prelu',
  ({ inputs }) => {
    const { x, alpha } = inputs as PreluInputs;
    return isNativeDType(x.dtype) && isNativeDType(alpha.dtype) && broadcastable(x.shape, alpha.shape);
  },
  ({ inputs }, backend) => {
    const { x, alpha } = inputs as PreluInputs;
    return backend.adopt(prelu(backend.view(x), backend.view(alpha)));
  },
);
