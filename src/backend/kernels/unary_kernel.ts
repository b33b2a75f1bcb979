// Shared adapter for the unary elementwise kernels and activations: tfjs input -> DeviceArray
// view -> the direct kernel API -> an adopted output. complex64 and string inputs, and
// attributes that are not numbers, go to tfjs-backend-cpu.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

import { sizeOf } from '../../kernels/array.js';
import { unary, unaryOutDType, type UnaryAttrs, type UnaryOp } from '../../kernels/unary.js';
import { native } from '../../native.js';
import type { TesseraCpuBackend } from '../backend_cpu.js';
import { bufferPool } from '../../device/buffer_pool.js';
import { nativeKernelConfig } from '../fallback.js';

export function isNativeDType(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

function attrsAreNumbers(op: UnaryOp, attrs: UnaryAttrs): boolean {
  if (op === 'Step' || op === 'LeakyRelu') return typeof attrs.alpha === 'number';
  if (op === 'ClipByValue') return typeof attrs.clipValueMin === 'number' && typeof attrs.clipValueMax === 'number';
  return true;
}

// The direct kernel API validates and allocates per call; the common case (input stored
// natively, numeric attributes) instead calls the native kernel with a pooled output buffer,
// so that a tiny op costs about what it does on tfjs-backend-cpu.
export function unaryKernelConfig(op: UnaryOp): KernelConfig {
  const general = nativeKernelConfig(
    op,
    ({ inputs, attrs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype) && attrsAreNumbers(op, (attrs ?? {}) as UnaryAttrs),
    ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      return backend.adopt(unary(op, backend.view(x), (attrs ?? {}) as UnaryAttrs));
    },
  );
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const attrs = (args.attrs ?? {}) as UnaryAttrs;
    const backend = args.backend as TesseraCpuBackend;
    const xv = isNativeDType(x.dtype) && attrsAreNumbers(op, attrs) ? backend.nativeValues(x) : undefined;
    if (xv === undefined) return general.kernelFunc(args);
    const dtype = unaryOutDType(op, x.dtype as 'float32');
    const out = bufferPool.get(dtype, sizeOf(x.shape));
    const attr0 = op === 'ClipByValue' ? attrs.clipValueMin! : (attrs.alpha ?? 0);
    const attr1 = op === 'ClipByValue' ? attrs.clipValueMax! : 0;
    native.unary(op, xv, out, attr0, attr1);
    return backend.adoptBuffer(out, x.shape.slice(), dtype);
  };
  return { ...general, kernelFunc };
}
