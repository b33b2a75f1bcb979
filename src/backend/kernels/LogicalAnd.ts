import { binaryKernelConfig } from './binary_kernel.js';

export const logicalAndConfig = binaryKernelConfig('LogicalAnd');
