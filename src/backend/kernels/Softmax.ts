import type { TensorInfo } from '@tensorflow/tfjs-core';

import { softmax } from '../../kernels/reduce.js';
import { nativeKernelConfig } from '../fallback.js';

// tfjs supports the last axis only (dim -1 or rank - 1); any other dim goes to
// tfjs-backend-cpu for its error.
export const softmaxConfig = nativeKernelConfig(
  'Softmax',
  ({ inputs, attrs }) => {
    const { logits } = inputs as { logits: TensorInfo };
    const rank = logits.shape.length;
    const dim = attrs?.dim;
    return logits.dtype === 'float32' && rank >= 1 && (dim === -1 || dim === rank - 1);
  },
  ({ inputs }, backend) => {
    const { logits } = inputs as { logits: TensorInfo };
    return backend.adopt(softmax(backend.view(logits)));
  },
);
