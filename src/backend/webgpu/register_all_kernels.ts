// Every tessera-webgpu kernel with WGSL. One import per kernel family; keep the list sorted.
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { binaryKernelConfigs } from './kernels/binary.js';
import { matmulConvKernelConfigs } from './kernels/conv.js';

export const WEBGPU_KERNELS: KernelConfig[] = [
  ...binaryKernelConfigs,
  ...matmulConvKernelConfigs,
];
