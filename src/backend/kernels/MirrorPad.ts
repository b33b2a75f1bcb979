import { MirrorPad, type MirrorPadAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { mirrorPad } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const mirrorPadConfig = nativeKernelConfig(
  MirrorPad,
  // Paddings past what the mode allows (tfjs-core's mirrorPad rejects them) stay with tfjs-backend-cpu.
  ({ inputs, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    const { paddings, mode } = attrs as unknown as MirrorPadAttrs;
    const most = (d: number) => (mode === 'reflect' ? d - 1 : d);
    return isNativeDType(x.dtype) && (mode === 'reflect' || mode === 'symmetric') &&
      paddings.every(([before, after], i) => before >= 0 && after >= 0 && before <= most(x.shape[i]) && after <= most(x.shape[i]));
  },
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { paddings, mode } = attrs as unknown as MirrorPadAttrs;
    return backend.adopt(mirrorPad(backend.view(x), paddings, mode));
  },
);
