import { convForwardConfig } from './conv_kernel.js';

export const fusedDepthwiseConv2DConfig = convForwardConfig('FusedDepthwiseConv2D', true, true);
