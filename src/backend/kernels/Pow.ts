import { binaryKernelConfig } from './binary_kernel.js';

export const powConfig = binaryKernelConfig('Pow');
