import { unaryKernelConfig } from './unary_kernel.js';

export const isInfConfig = unaryKernelConfig('IsInf');
