import { convForwardConfig } from './conv_kernel.js';

export const conv2DConfig = convForwardConfig('Conv2D', false, false);
