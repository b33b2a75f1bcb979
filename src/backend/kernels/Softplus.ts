import { unaryKernelConfig } from './unary_kernel.js';

export const softplusConfig = unaryKernelConfig('Softplus');
