import { binaryKernelConfig } from './binary_kernel.js';

export const squaredDifferenceConfig = binaryKernelConfig('SquaredDifference');
