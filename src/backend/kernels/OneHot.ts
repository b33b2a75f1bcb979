import { OneHot, type OneHotAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { oneHot } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const oneHotConfig = nativeKernelConfig(
  OneHot,
  ({ inputs, attrs }) => (inputs as { indices: TensorInfo }).indices.dtype === 'int32' && isNativeDType((attrs as unknown as OneHotAttrs).dtype),
  ({ inputs, attrs }, backend) => {
    const { indices } = inputs as { indices: TensorInfo };
    const { dtype, depth, onValue, offValue } = attrs as unknown as OneHotAttrs;
    return backend.adopt(oneHot(backend.view(indices), depth, onValue, offValue, dtype as 'float32' | 'int32' | 'bool'));
  },
);
