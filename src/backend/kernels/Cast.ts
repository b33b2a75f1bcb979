// Cast between float32, int32 and bool, always into a new native buffer: tfjs-backend-cpu
// shares the input's data id when widening, which would leave a float32 tensor stored in an
// Int32Array. One visible consequence: an int32 beyond 2^24 cast to float32 reads back
// rounded to float32 here, exactly there. Casts to or from complex64 and string go to
// tfjs-backend-cpu.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import type { DType } from '../../kernels/array.js';
import { cast } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './unary_kernel.js';

export const castConfig = nativeKernelConfig(
  'Cast',
  ({ inputs, attrs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype) && isNativeDType(String(attrs?.dtype)),
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    return backend.adopt(cast(backend.view(x), (attrs as { dtype: DType }).dtype));
  },
);
