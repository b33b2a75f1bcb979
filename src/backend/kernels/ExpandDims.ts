import { ExpandDims, util, type ExpandDimsAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { nativeKernelConfig } from '../fallback.js';
import { reshapeData } from './layout_kernel.js';

export const expandDimsConfig = nativeKernelConfig(
  ExpandDims,
  () => true,
  ({ inputs, attrs }, backend) => {
    const { input } = inputs as { input: TensorInfo };
    const { dim } = attrs as unknown as ExpandDimsAttrs;
    const inputRank = input.shape.length;
    const newShape = input.shape.slice();
    let $dim = dim;
    if (dim < 0) {
      util.assert(-(inputRank + 1) <= dim, () => `Axis must be in the interval [${-(inputRank + 1)}, ${inputRank}]`);
      $dim = inputRank + dim + 1;
    }
    newShape.splice($dim, 0, 1);
    return reshapeData(backend, input, newShape);
  },
);
