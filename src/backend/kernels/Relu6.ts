import { unaryKernelConfig } from './unary_kernel.js';

export const relu6Config = unaryKernelConfig('Relu6');
