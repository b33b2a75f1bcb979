import { convForwardConfig } from './conv_kernel.js';

export const depthwiseConv2dNativeConfig = convForwardConfig('DepthwiseConv2dNative', true, false);
