import { binaryKernelConfig } from './binary_kernel.js';

export const notEqualConfig = binaryKernelConfig('NotEqual');
