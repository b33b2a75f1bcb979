import { unaryKernelConfig } from './unary_kernel.js';

export const signConfig = unaryKernelConfig('Sign');
