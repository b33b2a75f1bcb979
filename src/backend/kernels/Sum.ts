import { reduceKernelConfig } from './reduce_kernel.js';

export const sumConfig = reduceKernelConfig('Sum');
