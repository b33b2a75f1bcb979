import { unaryKernelConfig } from './unary_kernel.js';

export const asinConfig = unaryKernelConfig('Asin');
