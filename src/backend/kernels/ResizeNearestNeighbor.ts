import type { TensorInfo } from '@tensorflow/tfjs-core';

import { resizeNearestNeighbor } from '../../kernels/pool.js';
import { nativeKernelConfig } from '../fallback.js';
import { resizeRunsNatively, type ResizeAttrs } from './resize_kernel.js';

export const resizeNearestNeighborConfig = nativeKernelConfig(
  'ResizeNearestNeighbor',
  ({ inputs, attrs }) => resizeRunsNatively((inputs as { images: TensorInfo }).images, (attrs as unknown as ResizeAttrs).size),
  ({ inputs, attrs }, backend) => {
    const { images } = inputs as { images: TensorInfo };
    const { size, alignCorners, halfPixelCenters } = attrs as unknown as ResizeAttrs;
    return backend.adopt(resizeNearestNeighbor(backend.view(images), size, Boolean(alignCorners), Boolean(halfPixelCenters)));
  },
);
