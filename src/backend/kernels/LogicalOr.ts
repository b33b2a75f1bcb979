import { binaryKernelConfig } from './binary_kernel.js';

export const logicalOrConfig = binaryKernelConfig('LogicalOr');
