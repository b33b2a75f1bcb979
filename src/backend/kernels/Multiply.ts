import { binaryKernelConfig } from './binary_kernel.js';

export const multiplyConfig = binaryKernelConfig('Multiply');
