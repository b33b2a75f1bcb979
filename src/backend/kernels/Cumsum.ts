import { scanKernelConfig } from './reduce_kernel.js';

export const cumsumConfig = scanKernelConfig('Cumsum');
