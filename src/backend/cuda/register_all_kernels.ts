// Every tessera-cuda kernel with a CUDA implementation. One import per kernel family; keep the list sorted.
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { batchNormKernelConfigs } from './kernels/batchnorm.js';
import { convKernelConfigs } from './kernels/conv.js';
import { elementwiseKernelConfigs } from './kernels/elementwise.js';
import { layoutKernelConfigs } from './kernels/layout.js';
import { matMulKernelConfigs } from './kernels/matmul.js';
import { poolKernelConfigs } from './kernels/pool.js';
import { reduceKernelConfigs } from './kernels/reduce.js';

export const CUDA_KERNELS: KernelConfig[] = [
  ...batchNormKernelConfigs,
  ...convKernelConfigs,
  ...elementwiseKernelConfigs,
  ...layoutKernelConfigs,
  ...matMulKernelConfigs,
  ...poolKernelConfigs,
  ...reduceKernelConfigs,
];
