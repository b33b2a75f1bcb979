import { unaryKernelConfig } from './unary_kernel.js';

export const asinhConfig = unaryKernelConfig('Asinh');
