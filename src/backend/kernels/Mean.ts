import { reduceKernelConfig } from './reduce_kernel.js';

export const meanConfig = reduceKernelConfig('Mean');
