import { unaryKernelConfig } from './unary_kernel.js';

export const expm1Config = unaryKernelConfig('Expm1');
