import { binaryKernelConfig } from './binary_kernel.js';

export const realDivConfig = binaryKernelConfig('RealDiv');
