import { unaryKernelConfig } from './unary_kernel.js';

export const tanhConfig = unaryKernelConfig('Tanh');
