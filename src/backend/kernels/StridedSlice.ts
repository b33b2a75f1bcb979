import { StridedSlice, type StridedSliceAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { planStridedSlice, stridedSliceByPlan } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType, reshapeData } from './layout_kernel.js';

export const stridedSliceConfig = nativeKernelConfig(
  StridedSlice,
  ({ inputs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype),
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask } = attrs as unknown as StridedSliceAttrs;
    const plan = planStridedSlice(x.shape, begin, end, strides, { beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask });
    // A slice of everything is only a new shape: share the data as tfjs-backend-cpu does.
    if (plan.isIdentity) return reshapeData(backend, x, plan.outShape);
    return backend.adopt(stridedSliceByPlan(backend.view(x), plan));
  },
);
