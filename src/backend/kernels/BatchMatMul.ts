// tfjs's BatchMatMul: float32 and int32 natively (int32 wraps as tfjs's Int32Array stores do);
// bool, mixed dtypes and shapes tfjs would mis-broadcast or reject go to tfjs-backend-cpu.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { matMul } from '../../kernels/matmul.js';
import { nativeKernelConfig } from '../fallback.js';
import { nativeMatMulShape } from './matmul_kernel.js';

type Attrs = { transposeA?: boolean; transposeB?: boolean };

export const batchMatMulConfig = nativeKernelConfig(
  'BatchMatMul',
  ({ inputs, attrs }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA = false, transposeB = false } = (attrs ?? {}) as Attrs;
    return (a.dtype === 'float32' || a.dtype === 'int32') && nativeMatMulShape(a, b, transposeA, transposeB) !== undefined;
  },
  ({ inputs, attrs }, backend) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA = false, transposeB = false } = (attrs ?? {}) as Attrs;
    return backend.adopt(matMul(backend.view(a), backend.view(b), { transposeA, transposeB }));
  },
);
