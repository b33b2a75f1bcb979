import { convBackpropFilterConfig } from './conv_kernel.js';

export const conv2DBackpropFilterConfig = convBackpropFilterConfig('Conv2DBackpropFilter', false);
