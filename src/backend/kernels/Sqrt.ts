import { unaryKernelConfig } from './unary_kernel.js';

export const sqrtConfig = unaryKernelConfig('Sqrt');
