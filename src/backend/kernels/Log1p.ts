import { unaryKernelConfig } from './unary_kernel.js';

export const log1pConfig = unaryKernelConfig('Log1p');
