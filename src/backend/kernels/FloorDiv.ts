import { binaryKernelConfig } from './binary_kernel.js';

export const floorDivConfig = binaryKernelConfig('FloorDiv');
