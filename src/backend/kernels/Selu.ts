import { unaryKernelConfig } from './unary_kernel.js';

export const seluConfig = unaryKernelConfig('Selu');
