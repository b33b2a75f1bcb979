import { unaryKernelConfig } from './unary_kernel.js';

export const squareConfig = unaryKernelConfig('Square');
