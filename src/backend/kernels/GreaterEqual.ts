import { binaryKernelConfig } from './binary_kernel.js';

export const greaterEqualConfig = binaryKernelConfig('GreaterEqual');
