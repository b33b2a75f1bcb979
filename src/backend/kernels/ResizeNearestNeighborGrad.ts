// ResizeNearestNeighborGrad: inputs images (only the shape is read; the result takes its
// dtype, so only float32 images run natively) and dy; attr alignCorners. For more than one
// image this sums each image's own dy, where tfjs-backend-cpu reads dy at the images' batch
// stride (right only for one image or an unchanged size).
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { resizeNearestNeighborGrad } from '../../kernels/pool.js';
import { nativeKernelConfig } from '../fallback.js';
import { resizeGradRunsNatively, type ResizeAttrs } from './resize_kernel.js';

export const resizeNearestNeighborGradConfig = nativeKernelConfig(
  'ResizeNearestNeighborGrad',
  ({ inputs }) => {
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    return images.dtype === 'float32' && resizeGradRunsNatively(images, dy);
  },
  ({ inputs, attrs }, backend) => {
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const { alignCorners } = attrs as unknown as ResizeAttrs;
    return backend.adopt(resizeNearestNeighborGrad(backend.view(images), backend.view(dy), Boolean(alignCorners)));
  },
);
