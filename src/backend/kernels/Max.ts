import { reduceKernelConfig } from './reduce_kernel.js';

// tfjs names Max's axis attribute reductionIndices.
export const maxConfig = reduceKernelConfig('Max', 'reductionIndices');
