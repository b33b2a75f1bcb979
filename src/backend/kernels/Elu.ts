import { unaryKernelConfig } from './unary_kernel.js';

export const eluConfig = unaryKernelConfig('Elu');
