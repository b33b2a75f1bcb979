// ResizeBilinearGrad: inputs images (only the shape is read) and dy; attr alignCorners
// (halfPixelCenters is ignored, as in tfjs-backend-cpu). The result is shaped as images;
// tfjs-backend-cpu labels its (identically laid out) result [batch, width, height, channels],
// which makes tf.grad reject it for non-square images.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { resizeBilinearGrad } from '../../kernels/pool.js';
import { nativeKernelConfig } from '../fallback.js';
import { resizeGradRunsNatively, type ResizeAttrs } from './resize_kernel.js';

export const resizeBilinearGradConfig = nativeKernelConfig(
  'ResizeBilinearGrad',
  ({ inputs }) => {
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    return images.dtype !== 'complex64' && images.dtype !== 'string' && resizeGradRunsNatively(images, dy);
  },
  ({ inputs, attrs }, backend) => {
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const { alignCorners } = attrs as unknown as ResizeAttrs;
    return backend.adopt(resizeBilinearGrad(backend.view(images), backend.view(dy), Boolean(alignCorners)));
  },
);
