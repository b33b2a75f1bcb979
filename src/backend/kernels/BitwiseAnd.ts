import { binaryKernelConfig } from './binary_kernel.js';

export const bitwiseAndConfig = binaryKernelConfig('BitwiseAnd');
