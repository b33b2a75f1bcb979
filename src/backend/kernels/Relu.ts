import { unaryKernelConfig } from './unary_kernel.js';

export const reluConfig = unaryKernelConfig('Relu');
