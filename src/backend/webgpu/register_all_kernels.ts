// Every tessera-webgpu kernel with WGSL. One import per kernel family; keep the list sorted.
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { addNKernelConfigs } from './kernels/addn.js';
import { binaryKernelConfigs } from './kernels/binary.js';
import { castKernelConfigs } from './kernels/cast.js';
import { fillKernelConfigs } from './kernels/fill.js';
import { selectKernelConfigs } from './kernels/select.js';
import { unaryKernelConfigs } from './kernels/unary.js';

export const WEBGPU_KERNELS: KernelConfig[] = [
  ...addNKernelConfigs,
  ...binaryKernelConfigs,
  ...castKernelConfigs,
  ...fillKernelConfigs,
  ...selectKernelConfigs,
  ...unaryKernelConfigs,
];
