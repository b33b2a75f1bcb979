import { binaryKernelConfig } from './binary_kernel.js';

export const addConfig = binaryKernelConfig('Add');
