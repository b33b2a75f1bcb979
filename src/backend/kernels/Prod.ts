import { reduceKernelConfig } from './reduce_kernel.js';

export const prodConfig = reduceKernelConfig('Prod');
