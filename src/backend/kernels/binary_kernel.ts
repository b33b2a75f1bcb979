// Shared adapter for the binary elementwise kernels: tfjs inputs -> DeviceArray views ->
// the direct kernel API -> an adopted output. Dtypes the native kernel does not take
// (complex64, string, bool arithmetic, mixed dtypes) go to tfjs-backend-cpu.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { binary, PREDICATE_OPS, type BinaryOp } from '../../kernels/binary.js';
import { nativeKernelConfig } from '../fallback.js';

const PREDICATES = new Set<string>(PREDICATE_OPS);
const LOGICAL = new Set<string>(['LogicalAnd', 'LogicalOr', 'LogicalXor']);

export function binaryKernelConfig(op: BinaryOp): KernelConfig {
  return nativeKernelConfig(
    op,
    ({ inputs }) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      if (a.dtype !== b.dtype) return false;
      if (LOGICAL.has(op)) return a.dtype === 'bool';
      if (op === 'BitwiseAnd') return a.dtype === 'int32';
      if (PREDICATES.has(op)) return a.dtype === 'float32' || a.dtype === 'int32' || a.dtype === 'bool';
      return a.dtype === 'float32' || a.dtype === 'int32';
    },
    ({ inputs }, backend) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      return backend.adopt(binary(op, backend.view(a), backend.view(b)));
    },
  );
}
