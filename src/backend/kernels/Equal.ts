import { binaryKernelConfig } from './binary_kernel.js';

export const equalConfig = binaryKernelConfig('Equal');
