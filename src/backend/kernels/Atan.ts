import { unaryKernelConfig } from './unary_kernel.js';

export const atanConfig = unaryKernelConfig('Atan');
