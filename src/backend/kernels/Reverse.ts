import { Reverse, util, type ReverseAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { reverse } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType, shareData } from './layout_kernel.js';

export const reverseConfig = nativeKernelConfig(
  Reverse,
  ({ inputs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype),
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const $dims = util.parseAxisParam((attrs as unknown as ReverseAttrs).dims, x.shape);
    if (x.shape.length === 0) return shareData(backend, x);
    return backend.adopt(reverse(backend.view(x), $dims));
  },
);
