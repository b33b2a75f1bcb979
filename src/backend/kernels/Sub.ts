import { binaryKernelConfig } from './binary_kernel.js';

export const subConfig = binaryKernelConfig('Sub');
