import { unaryKernelConfig } from './unary_kernel.js';

export const ceilConfig = unaryKernelConfig('Ceil');
