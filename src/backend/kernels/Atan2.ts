import { binaryKernelConfig } from './binary_kernel.js';

export const atan2Config = binaryKernelConfig('Atan2');
