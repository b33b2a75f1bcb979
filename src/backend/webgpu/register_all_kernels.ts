// Every tessera-webgpu kernel with WGSL. One import per kernel family; keep the list sorted.
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { addNKernelConfigs } from './kernels/addn.js';
import { batchnormKernelConfigs } from './kernels/batchnorm.js';
import { binaryKernelConfigs } from './kernels/binary.js';
import { castKernelConfigs } from './kernels/cast.js';
import { concatKernelConfigs } from './kernels/concat.js';
import { matmulConvKernelConfigs } from './kernels/conv.js';
import { depthwiseGradKernelConfigs } from './kernels/conv_depthwise_grad.js';
import { fillKernelConfigs } from './kernels/fill.js';
import { gatherKernelConfigs } from './kernels/gather.js';
import { onehotKernelConfigs } from './kernels/onehot.js';
import { padKernelConfigs } from './kernels/pad.js';
import { poolKernelConfigs } from './kernels/pool.js';
import { reduceKernelConfigs } from './kernels/reduce.js';
import { resizeKernelConfigs } from './kernels/resize.js';
import { reverseKernelConfigs } from './kernels/reverse.js';
import { scanKernelConfigs } from './kernels/scan.js';
import { selectKernelConfigs } from './kernels/select.js';
import { shapeKernelConfigs } from './kernels/shape.js';
import { sliceKernelConfigs } from './kernels/slice.js';
import { softmaxKernelConfigs } from './kernels/softmax.js';
import { tileKernelConfigs } from './kernels/tile.js';
import { transposeKernelConfigs } from './kernels/transpose.js';
import { unaryKernelConfigs } from './kernels/unary.js';

export const WEBGPU_KERNELS: KernelConfig[] = [
  ...addNKernelConfigs,
  ...batchnormKernelConfigs,
  ...binaryKernelConfigs,
  ...castKernelConfigs,
  ...concatKernelConfigs,
  ...matmulConvKernelConfigs,
  ...depthwiseGradKernelConfigs,
  ...fillKernelConfigs,
  ...gatherKernelConfigs,
  ...onehotKernelConfigs,
  ...padKernelConfigs,
  ...poolKernelConfigs,
  ...reduceKernelConfigs,
  ...resizeKernelConfigs,
  ...reverseKernelConfigs,
  ...scanKernelConfigs,
  ...selectKernelConfigs,
  ...shapeKernelConfigs,
  ...sliceKernelConfigs,
  ...softmaxKernelConfigs,
  ...tileKernelConfigs,
  ...transposeKernelConfigs,
  ...unaryKernelConfigs,
];
