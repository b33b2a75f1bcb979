import { Reshape, type ReshapeAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { nativeKernelConfig } from '../fallback.js';
import { reshapeData } from './layout_kernel.js';

export const reshapeConfig = nativeKernelConfig(
  Reshape,
  () => true,
  ({ inputs, attrs }, backend) => reshapeData(backend, (inputs as { x: TensorInfo }).x, (attrs as unknown as ReshapeAttrs).shape),
);
