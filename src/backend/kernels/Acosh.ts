import { unaryKernelConfig } from './unary_kernel.js';

export const acoshConfig = unaryKernelConfig('Acosh');
