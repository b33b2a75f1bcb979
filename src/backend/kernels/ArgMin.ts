import { argReduceKernelConfig } from './reduce_kernel.js';

export const argMinConfig = argReduceKernelConfig('ArgMin');
