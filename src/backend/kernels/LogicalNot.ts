import { unaryKernelConfig } from './unary_kernel.js';

export const logicalNotConfig = unaryKernelConfig('LogicalNot');
