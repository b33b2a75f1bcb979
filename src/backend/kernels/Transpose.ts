import { Transpose, type TensorInfo, type TransposeAttrs } from '@tensorflow/tfjs-core';

import { transpose } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const transposeConfig = nativeKernelConfig(
  Transpose,
  ({ inputs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype),
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    return backend.adopt(transpose(backend.view(x), (attrs as unknown as TransposeAttrs).perm));
  },
);
