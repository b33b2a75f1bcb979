import { reduceKernelConfig } from './reduce_kernel.js';

export const minConfig = reduceKernelConfig('Min');
