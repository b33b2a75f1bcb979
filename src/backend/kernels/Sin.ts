import { unaryKernelConfig } from './unary_kernel.js';

export const sinConfig = unaryKernelConfig('Sin');
