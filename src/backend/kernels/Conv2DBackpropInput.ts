import { convBackpropInputConfig } from './conv_kernel.js';

export const conv2DBackpropInputConfig = convBackpropInputConfig('Conv2DBackpropInput', false);
