import { Slice, slice_util, type SliceAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { slice } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const sliceConfig = nativeKernelConfig(
  Slice,
  ({ inputs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype),
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { begin, size } = attrs as unknown as SliceAttrs;
    const [$begin, $size] = slice_util.parseSliceParams(x, begin, size);
    slice_util.assertParamsValid(x, $begin, $size);
    // The whole tensor (tfjs-layers' predict slices every batch, usually all of it): share
    // the storage instead of copying it; tfjs tensors are immutable, so that is safe.
    if ($begin.every((b) => b === 0) && $size.every((d, i) => d === x.shape[i])) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }
    return backend.adopt(slice(backend.view(x), $begin, $size));
  },
);
