import { unaryKernelConfig } from './unary_kernel.js';

export const sigmoidConfig = unaryKernelConfig('Sigmoid');
