import type { TensorInfo } from '@tensorflow/tfjs-core';

import { zerosLike } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './unary_kernel.js';

export const zerosLikeConfig = nativeKernelConfig(
  'ZerosLike',
  ({ inputs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype),
  ({ inputs }, backend) => backend.adopt(zerosLike(backend.view((inputs as { x: TensorInfo }).x))),
);
