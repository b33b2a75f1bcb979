import { binaryKernelConfig } from './binary_kernel.js';

export const minimumConfig = binaryKernelConfig('Minimum');
