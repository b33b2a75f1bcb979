import { unaryKernelConfig } from './unary_kernel.js';

export const negConfig = unaryKernelConfig('Neg');
