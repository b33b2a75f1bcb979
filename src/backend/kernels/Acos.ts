import { unaryKernelConfig } from './unary_kernel.js';

export const acosConfig = unaryKernelConfig('Acos');
