// Shared checks for the resize kernels: which tfjs inputs the native kernels take. The rest
// (other dtypes, malformed sizes, images without pixels resized to a non-empty output,
// where tfjs-backend-cpu reads out of bounds) go to tfjs-backend-cpu.
import type { TensorInfo } from '@tensorflow/tfjs-core';

export interface ResizeAttrs {
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
  size: [number, number];
}

export function resizeRunsNatively(images: TensorInfo, size: unknown): boolean {
  if (images.dtype !== 'float32' && images.dtype !== 'int32') return false;
  if (images.shape.length !== 4) return false;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isInteger(d) && d >= 0)) return false;
  const [batch, height, width, channels] = images.shape;
  const outputEmpty = batch === 0 || size[0] === 0 || size[1] === 0 || channels === 0;
  return outputEmpty || (height > 0 && width > 0);
}

export function resizeGradRunsNatively(images: TensorInfo, dy: TensorInfo): boolean {
  return dy.dtype === 'float32' && dy.shape.length === 4 && images.shape.length === 4 &&
    dy.shape[0] === images.shape[0] && dy.shape[3] === images.shape[3];
}
