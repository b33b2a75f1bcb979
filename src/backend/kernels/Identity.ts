import { Identity, type TensorInfo } from '@tensorflow/tfjs-core';

import { nativeKernelConfig } from '../fallback.js';
import { shareData } from './layout_kernel.js';

export const identityConfig = nativeKernelConfig(Identity, () => true, ({ inputs }, backend) => shareData(backend, (inputs as { x: TensorInfo }).x));
