// Cast between float32, int32 and bool on the GPU (the unary template). As tfjs-backend-cpu:
// to int32 as an Int32Array stores (truncation toward zero, wrapping modulo 2^32, NaN and
// +-Inf to 0); to bool x != 0 (so NaN is true). A cast to the same dtype shares the input's
// storage. On the GPU bool is u32 and int32 i32, so a widening cast changes the bits
// (bool -> float32, int32 -> float32) or at least the dtype the storage is read back as
// (bool -> int32): every other cast writes a new buffer. complex64 and string run on
// tessera-cpu.
import type { DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { gpuKernelConfig } from '../../backend_webgpu.js';
import { runUnary } from './unary.js';

const NUMERIC = new Set<DataType>(['float32', 'int32', 'bool']);

// Body of op(x) for `${from}->${to}`.
const CASTS: Record<string, string> = {
  'float32->int32': 'return toI32(x);',
  'float32->bool': 'return u32(x != 0.0 || isNan(x));',
  'int32->float32': 'return f32(x);',
  'int32->bool': 'return u32(x != 0);',
  'bool->float32': 'return f32(x);',
  'bool->int32': 'return i32(x);',
};

export const castKernelConfig: KernelConfig = gpuKernelConfig('Cast', ({ inputs, attrs }, backend) => {
  const { x } = inputs as { x: TensorInfo };
  const dtype = (attrs ?? {}).dtype as DataType;
  if (!NUMERIC.has(x.dtype) || !NUMERIC.has(dtype)) return null;
  if (dtype === x.dtype) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  }
  const key = `${x.dtype}->${dtype}`;
  return runUnary(backend, `Cast/${key}`, CASTS[key], x, dtype);
});

export const castKernelConfigs: KernelConfig[] = [castKernelConfig];
