import type { TensorInfo } from '@tensorflow/tfjs-core';

import { resizeBilinear } from '../../kernels/pool.js';
import { nativeKernelConfig } from '../fallback.js';
import { resizeRunsNatively, type ResizeAttrs } from './resize_kernel.js';

export const resizeBilinearConfig = nativeKernelConfig(
  'ResizeBilinear',
  ({ inputs, attrs }) => {
    const { size, alignCorners, halfPixelCenters } = attrs as unknown as ResizeAttrs;
    // Both flags make tfjs-backend-cpu read past the image; its result is left to it.
    return !(alignCorners && halfPixelCenters) && resizeRunsNatively((inputs as { images: TensorInfo }).images, size);
  },
  ({ inputs, attrs }, backend) => {
    const { images } = inputs as { images: TensorInfo };
    const { size, alignCorners, halfPixelCenters } = attrs as unknown as ResizeAttrs;
    return backend.adopt(resizeBilinear(backend.view(images), size, Boolean(alignCorners), Boolean(halfPixelCenters)));
  },
);
