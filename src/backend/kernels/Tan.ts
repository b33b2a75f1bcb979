import { unaryKernelConfig } from './unary_kernel.js';

export const tanConfig = unaryKernelConfig('Tan');
