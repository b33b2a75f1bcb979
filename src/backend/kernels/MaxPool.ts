import { poolKernelConfig } from './pool_kernel.js';

export const maxPoolConfig = poolKernelConfig('MaxPool');
