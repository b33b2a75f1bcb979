import { Unpack, type TensorInfo, type UnpackAttrs } from '@tensorflow/tfjs-core';

import { unstack } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const unpackConfig = nativeKernelConfig(
  Unpack,
  ({ inputs }) => isNativeDType((inputs as { value: TensorInfo }).value.dtype),
  ({ inputs, attrs }, backend) => {
    const { value } = inputs as { value: TensorInfo };
    return unstack(backend.view(value), (attrs as unknown as UnpackAttrs).axis).map((t) => backend.adopt(t));
  },
);
