import { unaryKernelConfig } from './unary_kernel.js';

export const coshConfig = unaryKernelConfig('Cosh');
