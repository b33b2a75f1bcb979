import { binaryKernelConfig } from './binary_kernel.js';

export const lessConfig = binaryKernelConfig('Less');
