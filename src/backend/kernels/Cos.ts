import { unaryKernelConfig } from './unary_kernel.js';

export const cosConfig = unaryKernelConfig('Cos');
