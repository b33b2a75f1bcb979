import { unaryKernelConfig } from './unary_kernel.js';

export const expConfig = unaryKernelConfig('Exp');
