import { poolKernelConfig } from './pool_kernel.js';

export const avgPoolConfig = poolKernelConfig('AvgPool');
