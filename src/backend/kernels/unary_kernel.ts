// Shared adapter for the unary elementwise kernels and activations: tfjs input -> DeviceArray
// view -> the direct kernel API -> an adopted output. complex64 and string inputs, and
// attributes that are not numbers, go to tfjs-backend-cpu.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { unary, type UnaryAttrs, type UnaryOp } from '../../kernels/unary.js';
import { nativeKernelConfig } from '../fallback.js';

export function isNativeDType(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function attrsAreNumbers(op: UnaryOp, attrs: UnaryAttrs): boolean {
  if (op === 'Step' || op === 'LeakyRelu') return typeof attrs.alpha === 'number';
  if (op === 'ClipByValue') return typeof attrs.clipValueMin === 'number' && typeof attrs.clipValueMax === 'number';
  return true;
}

export function unaryKernelConfig(op: UnaryOp): KernelConfig {
  return nativeKernelConfig(
    op,
    ({ inputs, attrs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype) && attrsAreNumbers(op, (attrs ?? {}) as UnaryAttrs),
    ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      return backend.adopt(unary(op, backend.view(x), (attrs ?? {}) as UnaryAttrs));
    },
  );
}
