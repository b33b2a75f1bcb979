import { binaryKernelConfig } from './binary_kernel.js';

export const logicalXorConfig = binaryKernelConfig('LogicalXor');
