import { convForwardConfig } from './conv_kernel.js';

export const fusedConv2DConfig = convForwardConfig('FusedConv2D', false, true);
