// Every tessera-webgpu kernel with WGSL. One import per kernel family; keep the list sorted.
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { binaryKernelConfigs } from './kernels/binary.js';
import { reduceKernelConfigs } from './kernels/reduce.js';
import { softmaxKernelConfigs } from './kernels/softmax.js';

export const WEBGPU_KERNELS: KernelConfig[] = [
  ...binaryKernelConfigs,
  ...reduceKernelConfigs,
  ...softmaxKernelConfigs,
];
