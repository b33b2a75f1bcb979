import { unaryKernelConfig } from './unary_kernel.js';

export const floorConfig = unaryKernelConfig('Floor');
