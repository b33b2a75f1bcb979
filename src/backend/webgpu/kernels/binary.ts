// Elementwise binary kernels with broadcasting (kernels/wgsl/binary.wgsl). Semantics follow
// tfjs-backend-cpu: NaN propagates through Maximum and Minimum, comparisons give bool.
// Ops or dtypes without a WGSL body here run on tessera-cpu.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslType } from '../wgsl.js';

const MAX_RANK = 6;

type Body = { f32?: string; i32?: string; u32?: string; out?: 'bool' };

// The body of op(x, y) per input type.
const BODIES: Record<string, Body> = {
  Add: { f32: 'return x + y;', i32: 'return x + y;' },
  Sub: { f32: 'return x - y;', i32: 'return x - y;' },
  Multiply: { f32: 'return x * y;', i32: 'return x * y;' },
  RealDiv: { f32: 'return x / y;' },
  Maximum: { f32: 'if (isNan(x) || isNan(y)) { return nan(); } return max(x, y);', i32: 'return max(x, y);' },
  Minimum: { f32: 'if (isNan(x) || isNan(y)) { return nan(); } return min(x, y);', i32: 'return min(x, y);' },
  SquaredDifference: { f32: 'let d = x - y; return d * d;', i32: 'let d = x - y; return d * d;' },
  Equal: { f32: 'return u32(x == y);', i32: 'return u32(x == y);', u32: 'return u32(x == y);', out: 'bool' },
  NotEqual: { f32: 'return u32(x != y || isNan(x) || isNan(y));', i32: 'return u32(x != y);', u32: 'return u32(x != y);', out: 'bool' },
  Less: { f32: 'return u32(x < y);', i32: 'return u32(x < y);', u32: 'return u32(x < y);', out: 'bool' },
  LessEqual: { f32: 'return u32(x <= y);', i32: 'return u32(x <= y);', u32: 'return u32(x <= y);', out: 'bool' },
  Greater: { f32: 'return u32(x > y);', i32: 'return u32(x > y);', u32: 'return u32(x > y);', out: 'bool' },
  GreaterEqual: { f32: 'return u32(x >= y);', i32: 'return u32(x >= y);', u32: 'return u32(x >= y);', out: 'bool' },
  LogicalAnd: { u32: 'return u32(x != 0u && y != 0u);', out: 'bool' },
  LogicalOr: { u32: 'return u32(x != 0u || y != 0u);', out: 'bool' },
};

/** Strides of `shape` (row-major) seen from `outShape`: 0 along dims it broadcasts over. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = outShape.length - shape.length + i;
    strides[d] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

function binaryConfig(kernelName: string, body: Body): KernelConfig {
  return gpuKernelConfig(kernelName, ({ inputs }, backend) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== b.dtype) return null;
    const type = wgslType(a.dtype);
    if (a.dtype === 'string' || a.dtype === 'complex64' || body[type] === undefined) return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (outShape.length > MAX_RANK) return null;
    const outDtype = body.out === 'bool' ? 'bool' : a.dtype;
    const size = util.sizeFromShape(outShape);
    const same = util.arraysEqual(a.shape, b.shape);
    const meta = new Meta().u32(size);
    const pad = MAX_RANK - outShape.length;
    const dims = [...new Array<number>(pad).fill(1), ...outShape];
    const as = [...new Array<number>(pad).fill(0), ...broadcastStrides(a.shape, outShape)];
    const bs = [...new Array<number>(pad).fill(0), ...broadcastStrides(b.shape, outShape)];
    for (let d = 0; d < MAX_RANK; d++) meta.u32(dims[d], as[d], bs[d]);
    const program = templateProgram(`binary/${kernelName}/${type}/${same ? 'same' : 'broadcast'}`, 'binary', 3, meta.length, {
      T: type, OUT_T: body.out === 'bool' ? 'u32' : type, OP: body[type]!, SAME_SHAPE: same ? 'true' : 'false',
    });
    return backend.runProgram(program, [a, b], outShape, outDtype, meta.build(), workgroupsFor(size, 256));
  });
}

export const binaryKernelConfigs: KernelConfig[] = Object.entries(BODIES).map(([name, body]) => binaryConfig(name, body));
