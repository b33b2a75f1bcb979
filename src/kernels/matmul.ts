// Matrix products: batched, with broadcast batch dimensions, transposes read in place and a
// fused bias and activation (the kernels under tfjs's BatchMatMul and _FusedMatMul).
import { declareCpuOp } from '../device/cpu.js';
import { native } from '../native.js';
import { DeviceArray, empty } from './array.js';
import { broadcastShapes, checkArray, checkDType, checkSameDType, describe } from './validate.js';

declareCpuOp('BatchMatMul');
declareCpuOp('_FusedMatMul');

/** tfjs's fused activations. */
export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'leakyrelu', 'prelu', 'elu', 'sigmoid'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface MatMulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** Added to every matrix of the product; its shape must broadcast to the output's (float32). */
  bias?: DeviceArray;
  /** Applied after the bias. Default 'linear'. */
  activation?: Activation;
  /** The slope of 'leakyrelu' for negative values. Default 0.2, as in tfjs. */
  leakyreluAlpha?: number;
  /** The slopes of 'prelu', broadcast to the output's shape like the bias (float32). */
  preluActivationWeights?: DeviceArray;
}

/**
 * The shape of op(a) * op(b): the batch dimensions (all but the last two) broadcast with
 * numpy's rules, then [m, n]. Throws naming `op` when the shapes do not fit.
 */
export function matMulShape(op: string, aShape: readonly number[], bShape: readonly number[], transposeA = false, transposeB = false): number[] {
  if (aShape.length < 2) throw new Error(`${op}: expected rank >= 2 for a but got shape [${aShape}]`);
  if (bShape.length < 2) throw new Error(`${op}: expected rank >= 2 for b but got shape [${bShape}]`);
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (k !== kb) {
    throw new Error(`${op}: expected inner dimension ${k} (that of a${transposeA ? ', transposed' : ''}) for b ` +
      `but got ${kb} (shape [${bShape}]${transposeB ? ' transposed' : ''})`);
  }
  let batch: number[];
  try {
    batch = broadcastShapes(op, aShape.slice(0, -2), bShape.slice(0, -2));
  } catch {
    throw new Error(`${op}: expected batch dimensions that broadcast together for a and b but got ` +
      `[${aShape.slice(0, -2)}] and [${bShape.slice(0, -2)}]`);
  }
  return [...batch, m, n];
}

function checkBool(op: string, arg: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') throw new Error(`${op}: expected a boolean for ${arg} but got ${describe(v)}`);
}

function checkBroadcastsTo(op: string, arg: string, x: DeviceArray, outShape: readonly number[]): void {
  checkDType(op, arg, x, ['float32']);
  let fits = x.shape.length <= outShape.length;
  for (let i = 1; fits && i <= x.shape.length; i++) {
    const d = x.shape[x.shape.length - i];
    fits = d === 1 || d === outShape[outShape.length - i];
  }
  if (!fits) throw new Error(`${op}: expected a shape that broadcasts to [${outShape}] for ${arg} but got [${x.shape}]`);
}

function run(op: 'matMul' | 'matMulRef', a: DeviceArray, b: DeviceArray, options: MatMulOptions): DeviceArray {
  checkArray(op, 'a', a);
  checkArray(op, 'b', b);
  checkDType(op, 'a', a, ['float32', 'int32']);
  checkSameDType(op, a, b);
  if (typeof options !== 'object' || options === null) throw new Error(`${op}: expected an object for options but got ${describe(options)}`);
  const { transposeA = false, transposeB = false, bias, activation = 'linear', leakyreluAlpha = 0.2, preluActivationWeights } = options;
  checkBool(op, 'transposeA', transposeA);
  checkBool(op, 'transposeB', transposeB);
  const shape = matMulShape(op, a.shape, b.shape, transposeA, transposeB);
  if (!(ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new Error(`${op}: expected one of ${ACTIVATIONS.join(', ')} for activation but got ${describe(activation)}`);
  }
  if (typeof leakyreluAlpha !== 'number') throw new Error(`${op}: expected a number for leakyreluAlpha but got ${describe(leakyreluAlpha)}`);
  if (a.dtype === 'int32' && (bias !== undefined || activation !== 'linear')) {
    throw new Error(`${op}: expected float32 operands for a fused bias or activation but got int32`);
  }
  if (bias !== undefined) {
    checkArray(op, 'bias', bias);
    checkBroadcastsTo(op, 'bias', bias, shape);
  }
  const prelu = activation === 'prelu' ? preluActivationWeights : undefined;
  if (activation === 'prelu') {
    if (prelu === undefined) throw new Error(`${op}: expected a DeviceArray for preluActivationWeights (activation prelu) but got undefined`);
    checkArray(op, 'preluActivationWeights', prelu);
    checkBroadcastsTo(op, 'preluActivationWeights', prelu, shape);
  }
  const out = empty(shape, a.dtype, a.device);
  native[op](a.data, a.shape, b.data, b.shape, transposeA, transposeB, out.data,
    (bias?.data as Float32Array | undefined) ?? null, bias?.shape ?? null, activation, leakyreluAlpha,
    (prelu?.data as Float32Array | undefined) ?? null, prelu?.shape ?? null);
  return out;
}

/**
 * activation(op(a) * op(b) + bias) for every matrix of the broadcast batch. float32 or int32
 * (int32 wraps like tfjs's Int32Array stores and takes no bias or activation).
 */
export function matMul(a: DeviceArray, b: DeviceArray, options: MatMulOptions = {}): DeviceArray {
  return run('matMul', a, b, options);
}

/** The scalar reference of `matMul` (double accumulation), used as the test oracle. */
export function matMulRef(a: DeviceArray, b: DeviceArray, options: MatMulOptions = {}): DeviceArray {
  return run('matMulRef', a, b, options);
}
