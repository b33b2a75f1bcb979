import { scanKernelConfig } from './reduce_kernel.js';

export const cumprodConfig = scanKernelConfig('Cumprod');
