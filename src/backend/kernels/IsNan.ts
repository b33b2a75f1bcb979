import { unaryKernelConfig } from './unary_kernel.js';

export const isNaNConfig = unaryKernelConfig('IsNan');
