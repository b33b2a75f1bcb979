import { unaryKernelConfig } from './unary_kernel.js';

export const leakyReluConfig = unaryKernelConfig('LeakyRelu');
