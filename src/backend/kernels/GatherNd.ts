import { backend_util, GatherNd, type TensorInfo } from '@tensorflow/tfjs-core';

import { gatherNd } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const gatherNdConfig = nativeKernelConfig(
  GatherNd,
  ({ inputs }) => {
    const { params, indices } = inputs as { params: TensorInfo; indices: TensorInfo };
    return isNativeDType(params.dtype) && indices.dtype === 'int32';
  },
  ({ inputs }, backend) => {
    const { params, indices } = inputs as { params: TensorInfo; indices: TensorInfo };
    const [resultShape, numSlices] = backend_util.prepareAndValidate(params, indices);
    if (numSlices === 0) return backend.makeTensorInfo(resultShape, params.dtype, []);
    return backend.adopt(gatherNd(backend.view(params), backend.view(indices)));
  },
);
