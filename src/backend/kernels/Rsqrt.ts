import { unaryKernelConfig } from './unary_kernel.js';

export const rsqrtConfig = unaryKernelConfig('Rsqrt');
