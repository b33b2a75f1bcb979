import { PadV2, type PadV2Attrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { pad } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const padV2Config = nativeKernelConfig(
  PadV2,
  // tfjs-core's pad does not reject negative paddings; tfjs-backend-cpu's loop gives them its own meaning.
  ({ inputs, attrs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype) &&
    (attrs as unknown as PadV2Attrs).paddings.every(([before, after]) => before >= 0 && after >= 0),
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { paddings, constantValue } = attrs as unknown as PadV2Attrs;
    return backend.adopt(pad(backend.view(x), paddings, constantValue));
  },
);
