import { reduceKernelConfig } from './reduce_kernel.js';

export const anyConfig = reduceKernelConfig('Any');
