import { binaryKernelConfig } from './binary_kernel.js';

export const maximumConfig = binaryKernelConfig('Maximum');
