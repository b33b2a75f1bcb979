import { unaryKernelConfig } from './unary_kernel.js';

export const stepConfig = unaryKernelConfig('Step');
