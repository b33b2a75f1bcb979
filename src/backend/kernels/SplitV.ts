import { backend_util, SplitV, util, type SplitVAttrs, type TensorInfo } from '@tensorflow/tfjs-core';

import { split } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

// tfjs's prepareSplitSize, on a copy: it writes the resolved -1 back into its argument.
function splitSizes(x: TensorInfo, attrs: SplitVAttrs): number[] {
  const { numOrSizeSplits, axis } = attrs;
  const $axis = util.parseAxisParam(axis, x.shape)[0];
  return backend_util.prepareSplitSize(x, typeof numOrSizeSplits === 'number' ? numOrSizeSplits : [...numOrSizeSplits], $axis);
}

export const splitVConfig = nativeKernelConfig(
  SplitV,
  // Sizes tfjs resolves to negatives (its -1 arithmetic can) go to its own slicing.
  ({ inputs, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    return isNativeDType(x.dtype) && splitSizes(x, attrs as unknown as SplitVAttrs).every((s) => s >= 0);
  },
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const $attrs = attrs as unknown as SplitVAttrs;
    const $axis = util.parseAxisParam($attrs.axis, x.shape)[0];
    return split(backend.view(x), splitSizes(x, $attrs), $axis).map((t) => backend.adopt(t));
  },
);
