import { binaryKernelConfig } from './binary_kernel.js';

export const lessEqualConfig = binaryKernelConfig('LessEqual');
