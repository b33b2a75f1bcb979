import { backend_util, Concat, util, type ConcatAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { concat } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType, shareData } from './layout_kernel.js';

export const concatConfig = nativeKernelConfig(
  Concat,
  ({ inputs }) => {
    const xs = inputs as unknown as TensorInfo[];
    return isNativeDType(xs[0].dtype) && xs.every((t) => t.dtype === xs[0].dtype);
  },
  ({ inputs, attrs }, backend) => {
    const xs = inputs as unknown as TensorInfo[];
    const $axis = util.parseAxisParam((attrs as unknown as ConcatAttrs).axis, xs[0].shape)[0];
    backend_util.assertParamsConsistent(xs.map((t) => t.shape), $axis);
    const outShape = backend_util.computeOutShape(xs.map((t) => t.shape), $axis);
    if (util.sizeFromShape(outShape) === 0) return backend.makeTensorInfo(outShape, xs[0].dtype, []);
    // As in tfjs-backend-cpu: empty inputs drop out, and a single one left is the result itself.
    const nonEmpty = xs.filter((t) => util.sizeFromShape(t.shape) > 0);
    if (nonEmpty.length === 1) return shareData(backend, nonEmpty[0]);
    return backend.adopt(concat(nonEmpty.map((t) => backend.view(t)), $axis));
  },
);
