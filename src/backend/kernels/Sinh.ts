import { unaryKernelConfig } from './unary_kernel.js';

export const sinhConfig = unaryKernelConfig('Sinh');
