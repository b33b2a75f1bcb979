import { unaryKernelConfig } from './unary_kernel.js';

export const reciprocalConfig = unaryKernelConfig('Reciprocal');
