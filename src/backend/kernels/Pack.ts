import { Pack, util, type PackAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { stack } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { allNative, reshapeData } from './layout_kernel.js';

export const packConfig = nativeKernelConfig(
  Pack,
  ({ inputs }) => allNative(inputs as unknown as TensorInfo[]),
  ({ inputs, attrs }, backend) => {
    const xs = inputs as unknown as TensorInfo[];
    const { axis } = attrs as unknown as PackAttrs;
    const rank = xs[0].shape.length;
    if (xs.length === 1) {
      // tfjs-backend-cpu's Pack of one tensor is its ExpandDims: no copy.
      util.assert(axis >= -(rank + 1), () => `Axis must be in the interval [${-(rank + 1)}, ${rank}]`);
      const shape = xs[0].shape.slice();
      shape.splice(axis < 0 ? rank + axis + 1 : axis, 0, 1);
      return reshapeData(backend, xs[0], shape);
    }
    xs.forEach((t) => {
      util.assertShapesMatch(xs[0].shape, t.shape, 'All tensors passed to stack must have matching shapes');
      util.assert(xs[0].dtype === t.dtype, () => 'All tensors passed to stack must have matching dtypes');
    });
    return backend.adopt(stack(xs.map((t) => backend.view(t)), axis));
  },
);
