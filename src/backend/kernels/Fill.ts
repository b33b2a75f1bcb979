// Fill with a number or boolean into float32, int32 or bool; string fills go to tfjs-backend-cpu.
import { util, type DataType } from '@tensorflow/tfjs-core';

import type { DType } from '../../kernels/array.js';
import { fill } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './unary_kernel.js';

interface FillAttrs {
  shape: number[];
  value: number | boolean | string;
  dtype?: DataType;
}

// Fill.js: the dtype attribute, or the one tfjs infers from the value.
const dtypeOf = (attrs: FillAttrs): DataType => attrs.dtype || util.inferDtype(attrs.value);

export const fillConfig = nativeKernelConfig(
  'Fill',
  ({ attrs }) => {
    const a = attrs as unknown as FillAttrs;
    return (typeof a.value === 'number' || typeof a.value === 'boolean') && isNativeDType(dtypeOf(a));
  },
  ({ attrs }, backend) => {
    const a = attrs as unknown as FillAttrs;
    return backend.adopt(fill(a.shape, a.value as number | boolean, dtypeOf(a) as DType));
  },
);
