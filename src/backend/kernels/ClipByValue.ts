import { unaryKernelConfig } from './unary_kernel.js';

export const clipByValueConfig = unaryKernelConfig('ClipByValue');
