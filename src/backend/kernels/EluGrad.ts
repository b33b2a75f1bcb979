// EluGrad (Elu's gradient from its output) for float32 dy and y of one shape.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { eluGrad } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { sameShape } from '../../kernels/array.js';

type EluGradInputs = { dy: TensorInfo; y: TensorInfo };

export const eluGradConfig = nativeKernelConfig(
  'EluGrad',
  ({ inputs }) => {
    const { dy, y } = inputs as EluGradInputs;
    return dy.dtype === 'float32' && y.dtype === 'float32' && sameShape(dy.shape, y.shape);
  },
  ({ inputs }, backend) => {
    const { dy, y } = inputs as EluGradInputs;
    return backend.adopt(eluGrad(backend.view(dy), backend.view(y)));
  },
);
