import { unaryKernelConfig } from './unary_kernel.js';

export const logConfig = unaryKernelConfig('Log');
