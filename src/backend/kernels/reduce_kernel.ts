// Shared adapters for the reduce family: tfjs inputs and attributes -> DeviceArray views ->
// the direct kernel API -> adopted outputs. Inputs the native kernels do not take (complex64,
// string, All/Any of non-bool, axes tfjs would reject or name twice) go to tfjs-backend-cpu,
// which then produces its own result or error.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import type { DType } from '../../kernels/array.js';
import { argMax, argMin, cumprod, cumsum, normalizeAxes, reduce, reduceDTypes, type ArgReduceOp, type AxisArg, type ReduceOp, type ScanOp } from '../../kernels/reduce.js';
import { nativeKernelConfig } from '../fallback.js';

// The rank the native reductions take (their strided walk keeps one digit per dim).
const MAX_RANK = 64;

function isNativeDType(dtype: string): dtype is DType {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

/** The normalized axes, or undefined where normalizeAxes would throw. */
function axesOrUndefined(op: string, axis: unknown, rank: number): number[] | undefined {
  try {
    return normalizeAxes(op, axis as AxisArg, rank);
  } catch {
    return undefined;
  }
}

/** Sum, Mean, Prod, Max, Min, All, Any: attrs {[axisAttr], keepDims}. */
export function reduceKernelConfig(op: ReduceOp, axisAttr: 'axis' | 'reductionIndices' = 'axis'): KernelConfig {
  return nativeKernelConfig(
    op,
    ({ inputs, attrs }) => {
      const { x } = inputs as { x: TensorInfo };
      return (
        (reduceDTypes(op) as readonly string[]).includes(x.dtype) &&
        x.shape.length <= MAX_RANK &&
        axesOrUndefined(op, attrs?.[axisAttr], x.shape.length) !== undefined
      );
    },
    ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      return backend.adopt(reduce(op, backend.view(x), attrs![axisAttr] as AxisArg, Boolean(attrs!.keepDims)));
    },
  );
}

/** ArgMax, ArgMin: attrs {axis}, one axis (a number or a one-element array). */
export function argReduceKernelConfig(op: ArgReduceOp): KernelConfig {
  const singleAxis = (axis: unknown): number | undefined =>
    typeof axis === 'number' ? axis : Array.isArray(axis) && axis.length === 1 && typeof axis[0] === 'number' ? axis[0] : undefined;
  return nativeKernelConfig(
    op,
    ({ inputs, attrs }) => {
      const { x } = inputs as { x: TensorInfo };
      const axis = singleAxis(attrs?.axis);
      return isNativeDType(x.dtype) && x.shape.length <= MAX_RANK && axis !== undefined && axesOrUndefined(op, axis, x.shape.length) !== undefined;
    },
    ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      const fn = op === 'ArgMax' ? argMax : argMin;
      return backend.adopt(fn(backend.view(x), singleAxis(attrs!.axis)!));
    },
  );
}

/** Cumsum, Cumprod: attrs {axis, exclusive, reverse}; tfjs-backend-cpu takes a non-negative axis only. */
export function scanKernelConfig(op: ScanOp): KernelConfig {
  return nativeKernelConfig(
    op,
    ({ inputs, attrs }) => {
      const { x } = inputs as { x: TensorInfo };
      const axis = attrs?.axis;
      return isNativeDType(x.dtype) && typeof axis === 'number' && Number.isInteger(axis) && axis >= 0 && axis < x.shape.length;
    },
    ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      const fn = op === 'Cumsum' ? cumsum : cumprod;
      return backend.adopt(fn(backend.view(x), attrs!.axis as number, Boolean(attrs!.exclusive), Boolean(attrs!.reverse)));
    },
  );
}
