import { binaryKernelConfig } from './binary_kernel.js';

export const modConfig = binaryKernelConfig('Mod');
