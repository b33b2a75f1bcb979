import { convBackpropFilterConfig } from './conv_kernel.js';

export const depthwiseConv2dNativeBackpropFilterConfig = convBackpropFilterConfig('DepthwiseConv2dNativeBackpropFilter', true);
