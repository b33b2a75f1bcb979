import { unaryKernelConfig } from './unary_kernel.js';

export const erfConfig = unaryKernelConfig('Erf');
