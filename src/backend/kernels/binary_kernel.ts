// Shared adapter for the binary elementwise kernels. The common case (inputs of one shape,
// or a scalar against a tensor, stored natively) goes straight to native.binaryFlat with a
// pooled output buffer: a tiny op then costs about what it does on tfjs-backend-cpu.
// Other shapes go through the direct kernel API (full broadcasting); dtypes the native kernel
// does not take (complex64, string, bool arithmetic, mixed dtypes) go to tfjs-backend-cpu.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

import { sameShape, sizeOf } from '../../kernels/array.js';
import { binary, PREDICATE_OPS, type BinaryOp } from '../../kernels/binary.js';
import { native } from '../../native.js';
import type { TesseraCpuBackend } from '../backend_cpu.js';
import { bufferPool } from '../../device/buffer_pool.js';
import { nativeKernelConfig } from '../fallback.js';

const PREDICATES = new Set<string>(PREDICATE_OPS);

// Up to this many elements, float32 add, sub, mul and div run in JS: crossing into the addon
// costs more than a handful of element operations. Each is one double operation on float
// inputs rounded to float once, which equals the float operation (double carries enough
// bits for +, -, * and /), so the result is the same as the native kernel's, bit for bit.
const JS_MAX_ELEMENTS = 16;
type JsLoop = (a: Float32Array, b: Float32Array, out: Float32Array, aStep: number, bStep: number) => void;
const JS_LOOPS: Partial<Record<BinaryOp, JsLoop>> = {
  Add: (a, b, out, as, bs) => { for (let i = 0; i < out.length; i++) out[i] = a[i * as] + b[i * bs]; },
  Sub: (a, b, out, as, bs) => { for (let i = 0; i < out.length; i++) out[i] = a[i * as] - b[i * bs]; },
  Multiply: (a, b, out, as, bs) => { for (let i = 0; i < out.length; i++) out[i] = a[i * as] * b[i * bs]; },
  RealDiv: (a, b, out, as, bs) => { for (let i = 0; i < out.length; i++) out[i] = a[i * as] / b[i * bs]; },
};
const LOGICAL = new Set<string>(['LogicalAnd', 'LogicalOr', 'LogicalXor']);

export function binaryKernelConfig(op: BinaryOp): KernelConfig {
  const takes = (a: TensorInfo, b: TensorInfo): boolean => {
    if (a.dtype !== b.dtype) return false;
    if (LOGICAL.has(op)) return a.dtype === 'bool';
    if (op === 'BitwiseAnd') return a.dtype === 'int32';
    if (PREDICATES.has(op)) return a.dtype === 'float32' || a.dtype === 'int32' || a.dtype === 'bool';
    return a.dtype === 'float32' || a.dtype === 'int32';
  };
  const outDType = (input: TensorInfo['dtype']) => (PREDICATES.has(op) ? 'bool' : op === 'FloorDiv' ? 'int32' : input) as 'float32';
  const general = nativeKernelConfig(
    op,
    ({ inputs }) => takes((inputs as { a: TensorInfo }).a, (inputs as { b: TensorInfo }).b),
    ({ inputs }, backend) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      return backend.adopt(binary(op, backend.view(a), backend.view(b)));
    },
  );
  const code = native.binaryOpCode(op);
  const jsLoop = JS_LOOPS[op];
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const backend = args.backend as TesseraCpuBackend;
    const aIsScalar = a.shape.length === 0;
    const bIsScalar = b.shape.length === 0;
    if ((aIsScalar || bIsScalar || sameShape(a.shape, b.shape)) && takes(a, b)) {
      const av = backend.nativeValues(a);
      const bv = backend.nativeValues(b);
      if (av !== undefined && bv !== undefined) {
        const shape = aIsScalar ? b.shape : a.shape;
        const dtype = outDType(a.dtype);
        const size = sizeOf(shape);
        const out = bufferPool.get(dtype, size);
        if (jsLoop !== undefined && size <= JS_MAX_ELEMENTS && dtype === 'float32') {
          jsLoop(av as Float32Array, bv as Float32Array, out as Float32Array, aIsScalar ? 0 : 1, bIsScalar ? 0 : 1);
        } else {
          native.binaryFlat(code, av, bv, out);
        }
        return backend.adoptBuffer(out, shape.slice(), dtype);
      }
    }
    return general.kernelFunc(args);
  };
  return { ...general, kernelFunc };
}
