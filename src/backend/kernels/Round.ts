import { unaryKernelConfig } from './unary_kernel.js';

export const roundConfig = unaryKernelConfig('Round');
