// Elementwise binary kernels (kernels/wgsl/binary.wgsl, binary_vec4.wgsl, binary_math.wgsl).
// Semantics follow tfjs-backend-cpu, which computes each element with JS doubles and stores it
// in the output's typed array: NaN propagates through Maximum and Minimum, comparisons give
// bool, FloorDiv gives int32, int32 results wrap as an Int32Array store does (NaN and
// +-Inf store 0), Pow and Mod keep JS's special cases (see binary_math.wgsl).
//
// Three shapes of program, the rank compiled in: inputs of one layout, or a scalar against a
// tensor, run four elements per invocation with plain vec4 loads and stores; other
// broadcasts index each input through broadcast strides, four elements per invocation too
// when the output's innermost dim is a multiple of 4 (binary_bcast4.wgsl), else one. Ops or dtypes without a WGSL body here (bool
// arithmetic, mixed dtypes, int32 Atan2) run on tessera-cpu.
import type { DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslSource, wgslType } from '../wgsl.js';

const MAX_RANK = 6;

/** The body of op(x, y) per input type; `out` when the output dtype is not the inputs'. */
export type BinaryBody = { f32?: string; i32?: string; u32?: string; out?: 'bool' | 'int32' | 'float32' };

// The body of op(x, y) per input type (helpers from unary_math.wgsl / binary_math.wgsl).
const BODIES: Record<string, BinaryBody> = {
  Add: { f32: 'return x + y;', i32: 'return x + y;' },
  Sub: { f32: 'return x - y;', i32: 'return x - y;' },
  // int32 products past 2^53 round in tfjs's doubles before they wrap: mulI rounds alike.
  Multiply: { f32: 'return x * y;', i32: 'return mulI(x, y);' },
  // int32 RealDiv: the double quotient stored in an Int32Array truncates; x / 0 stores 0.
  RealDiv: { f32: 'return divF(x, y);', i32: 'return divI(x, y);' },
  FloorDiv: { f32: 'return floorDivToI32(x, y);', i32: 'return floorDivI(x, y);', out: 'int32' },
  Mod: { f32: 'return modF(x, y);', i32: 'return modI(x, y);' },
  Pow: { f32: 'return powF(x, y);', i32: 'return powI(x, y);' },
  Atan2: { f32: 'return atan2F(x, y);' },
  Maximum: { f32: 'if (isNan(x) || isNan(y)) { return nan(); } return max(x, y);', i32: 'return max(x, y);' },
  Minimum: { f32: 'if (isNan(x) || isNan(y)) { return nan(); } return min(x, y);', i32: 'return min(x, y);' },
  SquaredDifference: { f32: 'let d = x - y; return d * d;', i32: 'return squaredDifferenceI(x, y);' },
  BitwiseAnd: { i32: 'return x & y;' },
  Equal: { f32: 'return u32(x == y);', i32: 'return u32(x == y);', u32: 'return u32(x == y);', out: 'bool' },
  NotEqual: { f32: 'return u32(x != y || isNan(x) || isNan(y));', i32: 'return u32(x != y);', u32: 'return u32(x != y);', out: 'bool' },
  Less: { f32: 'return u32(x < y);', i32: 'return u32(x < y);', u32: 'return u32(x < y);', out: 'bool' },
  LessEqual: { f32: 'return u32(x <= y);', i32: 'return u32(x <= y);', u32: 'return u32(x <= y);', out: 'bool' },
  Greater: { f32: 'return u32(x > y);', i32: 'return u32(x > y);', u32: 'return u32(x > y);', out: 'bool' },
  GreaterEqual: { f32: 'return u32(x >= y);', i32: 'return u32(x >= y);', u32: 'return u32(x >= y);', out: 'bool' },
  LogicalAnd: { u32: 'return u32(x != 0u && y != 0u);', out: 'bool' },
  LogicalOr: { u32: 'return u32(x != 0u || y != 0u);', out: 'bool' },
};

// Prelu(x, alpha): x < 0 ? alpha * x : x, alpha broadcast against x; float32 out.
const PRELU: BinaryBody = { f32: 'return select(x, x * y, x < 0.0);' };
// EluGrad(dy, y): y >= 0 ? dy : dy * (y + 1) (NaN y gives NaN); inputs of one shape.
const ELU_GRAD: BinaryBody = { f32: 'if (y >= 0.0) { return x; } return x * (y + 1.0);' };

const mathNames = new Map<string, RegExp>();

function calls(body: string, file: string): boolean {
  let names = mathNames.get(file);
  if (names === undefined) {
    names = new RegExp(`\\b(${[...wgslSource(file).matchAll(/\bfn (\w+)\(/g)].map((match) => match[1]).join('|')})\\(`);
    mathNames.set(file, names);
  }
  return names.test(body);
}

/** The math helpers `body` needs: unary_math.wgsl, binary_math.wgsl (which builds on it), or nothing. */
export function mathSource(body: string): string {
  const binary = calls(body, 'binary_math');
  if (!binary && !calls(body, 'unary_math')) return '';
  return binary ? `${wgslSource('unary_math')}\n${wgslSource('binary_math')}` : wgslSource('unary_math');
}

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

/**
 * Runs op(a, b) elementwise with broadcasting; null when the body has no WGSL for the
 * inputs' dtype (or the rank is past 6). `key` names the op in program keys.
 */
export function runBinary(backend: TesseraWebGpuBackend, key: string, body: BinaryBody, a: TensorInfo, b: TensorInfo): TensorInfo | null {
  if (a.dtype !== b.dtype || a.dtype === 'string' || a.dtype === 'complex64') return null;
  const type = wgslType(a.dtype);
  const opBody = body[type];
  if (opBody === undefined) return null;
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (outShape.length > MAX_RANK) return null;
  const outDtype: DataType = body.out ?? a.dtype;
  const outType = wgslType(outDtype);
  const size = util.sizeFromShape(outShape);
  const aSize = util.sizeFromShape(a.shape);
  const bSize = util.sizeFromShape(b.shape);
  const math = mathSource(opBody);
  // One layout: equal sizes can only differ in leading 1s, which do not move elements.
  const vec4Mode = aSize === size && bSize === size ? 'same' : aSize === 1 && bSize === size ? 'scalarA' : bSize === 1 && aSize === size ? 'scalarB' : null;
  if (vec4Mode !== null) {
    const n4 = Math.ceil(size / 4);
    const meta = new Meta().u32(n4);
    const scalarA = vec4Mode === 'scalarA';
    const scalarB = vec4Mode === 'scalarB';
    const program = templateProgram(`binary4/${key}/${type}/${vec4Mode}`, 'binary_vec4', 3, meta.length, {
      T: type, OUT_T: outType, OP: opBody, MATH: math,
      A_ELEM: scalarA ? type : `vec4<${type}>`, B_ELEM: scalarB ? type : `vec4<${type}>`,
      A_LOAD: scalarA ? `vec4<${type}>(a[0])` : 'a[i]', B_LOAD: scalarB ? `vec4<${type}>(b[0])` : 'b[i]',
    });
    return backend.runProgram(program, [a, b], outShape, outDtype, meta.build(), workgroupsFor(n4, 256));
  }
  const rank = outShape.length;
  const as = broadcastStrides(a.shape, outShape);
  const bs = broadcastStrides(b.shape, outShape);
  // An innermost dim of a multiple of 4 keeps every vec4 inside one row: binary_bcast4.wgsl.
  const rows4 = outShape[rank - 1] % 4 === 0;
  const count = rows4 ? size / 4 : size;
  const meta = new Meta().u32(count);
  for (let d = 0; d < rank; d++) meta.u32(outShape[d], as[d], bs[d]);
  if (rows4) {
    const aRow = as[rank - 1] === 1;
    const bRow = bs[rank - 1] === 1;
    const program = templateProgram(`binary_bcast4/${key}/${type}/rank${rank}/${aRow ? 'v' : 's'}${bRow ? 'v' : 's'}`, 'binary_bcast4', 3, meta.length, {
      T: type, OUT_T: outType, OP: opBody, MATH: math, RANK: rank,
      A_ELEM: aRow ? `vec4<${type}>` : type, B_ELEM: bRow ? `vec4<${type}>` : type,
      A_LOAD: aRow ? 'a[ia / 4u]' : `vec4<${type}>(a[ia])`, B_LOAD: bRow ? 'b[ib / 4u]' : `vec4<${type}>(b[ib])`,
    });
    return backend.runProgram(program, [a, b], outShape, outDtype, meta.build(), workgroupsFor(count, 256));
  }
  const program = templateProgram(`binary/${key}/${type}/rank${rank}`, 'binary', 3, meta.length, {
    T: type, OUT_T: outType, OP: opBody, MATH: math, RANK: rank,
  });
  return backend.runProgram(program, [a, b], outShape, outDtype, meta.build(), workgroupsFor(size, 256));
}

function binaryConfig(kernelName: string, body: BinaryBody): KernelConfig {
  return gpuKernelConfig(kernelName, ({ inputs }, backend) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    return runBinary(backend, kernelName, body, a, b);
  });
}

const preluConfig = gpuKernelConfig('Prelu', ({ inputs }, backend) => {
  const { x, alpha } = inputs as { x: TensorInfo; alpha: TensorInfo };
  if (x.dtype !== 'float32') return null;
  return runBinary(backend, 'Prelu', PRELU, x, alpha);
});

const eluGradConfig = gpuKernelConfig('EluGrad', ({ inputs }, backend) => {
  const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
  // tfjs-backend-cpu walks y's elements against dy's: one shape.
  if (dy.dtype !== 'float32' || !util.arraysEqual(dy.shape, y.shape)) return null;
  return runBinary(backend, 'EluGrad', ELU_GRAD, dy, y);
});

export const binaryKernelConfigs: KernelConfig[] = [
  ...Object.entries(BODIES).map(([name, body]) => binaryConfig(name, body)),
  preluConfig,
  eluGradConfig,
];
