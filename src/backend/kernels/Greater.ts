import { binaryKernelConfig } from './binary_kernel.js';

export const greaterConfig = binaryKernelConfig('Greater');
