import { unaryKernelConfig } from './unary_kernel.js';

export const atanhConfig = unaryKernelConfig('Atanh');
