import { convBackpropInputConfig } from './conv_kernel.js';

export const depthwiseConv2dNativeBackpropInputConfig = convBackpropInputConfig('DepthwiseConv2dNativeBackpropInput', true);
