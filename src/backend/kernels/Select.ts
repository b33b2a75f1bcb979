// Select with a condition of t's shape (what tf.where passes after broadcasting). A lower-rank
// condition goes to tfjs-backend-cpu, whose Select.js gives such conditions its own reading
// (rank 1: t[i] and e[i] repeated over row i, not rows of t) that the native kernel does not copy.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { select } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { sameShape } from '../../kernels/array.js';
import { isNativeDType } from './unary_kernel.js';

type SelectInputs = { condition: TensorInfo; t: TensorInfo; e: TensorInfo };

export const selectConfig = nativeKernelConfig(
  'Select',
  ({ inputs }) => {
    const { condition, t, e } = inputs as SelectInputs;
    return condition.dtype === 'bool' && isNativeDType(t.dtype) && isNativeDType(e.dtype) &&
      sameShape(condition.shape, t.shape) && sameShape(e.shape, t.shape);
  },
  ({ inputs }, backend) => {
    const { condition, t, e } = inputs as SelectInputs;
    return backend.adopt(select(backend.view(condition), backend.view(t), backend.view(e)));
  },
);
