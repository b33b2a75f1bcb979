import type { TensorInfo } from '@tensorflow/tfjs-core';

import { onesLike } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './unary_kernel.js';

export const onesLikeConfig = nativeKernelConfig(
  'OnesLike',
  ({ inputs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype),
  ({ inputs }, backend) => backend.adopt(onesLike(backend.view((inputs as { x: TensorInfo }).x))),
);
