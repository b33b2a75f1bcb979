import { unaryKernelConfig } from './unary_kernel.js';

export const absConfig = unaryKernelConfig('Abs');
