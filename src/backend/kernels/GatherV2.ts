import { backend_util, GatherV2, util, type GatherV2Attrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { gather } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const gatherV2Config = nativeKernelConfig(
  GatherV2,
  ({ inputs }) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    return isNativeDType(x.dtype) && indices.dtype === 'int32';
  },
  ({ inputs, attrs }, backend) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
    const indicesView = backend.view(indices);
    // tfjs-backend-cpu checks every index first, with this message, before any shape check.
    const axisDim = x.shape[parsedAxis];
    for (const index of indicesView.data) {
      util.assert(index <= axisDim - 1 && index >= 0, () => `GatherV2: the index value ${index} is not in [0, ${axisDim - 1}]`);
    }
    const $batchDims = batchDims ?? 0;
    backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, $batchDims);
    return backend.adopt(gather(backend.view(x), indicesView, parsedAxis, $batchDims));
  },
);
