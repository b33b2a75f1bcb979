import { reduceKernelConfig } from './reduce_kernel.js';

export const allConfig = reduceKernelConfig('All');
