import { argReduceKernelConfig } from './reduce_kernel.js';

export const argMaxConfig = argReduceKernelConfig('ArgMax');
