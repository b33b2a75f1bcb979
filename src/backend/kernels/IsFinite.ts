import { unaryKernelConfig } from './unary_kernel.js';

export const isFiniteConfig = unaryKernelConfig('IsFinite');
