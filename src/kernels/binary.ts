// Binary elementwise kernels with numpy broadcasting.
import { declareCpuOp } from '../device/cpu.js';
import { native } from '../native.js';
import { DeviceArray, empty, type DType } from './array.js';
import { broadcastShapes, checkArray, checkDType, checkSameDType } from './validate.js';

/** The tfjs kernel names of the arithmetic ops: output keeps the input dtype (FloorDiv: int32, as in tfjs). */
export const ARITHMETIC_OPS = [
  'Add', 'Sub', 'Multiply', 'RealDiv', 'FloorDiv', 'Maximum', 'Minimum', 'Pow', 'SquaredDifference', 'Mod', 'Atan2',
  'BitwiseAnd',
] as const;
/** Comparisons and logical ops: output is bool. */
export const PREDICATE_OPS = [
  'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor',
] as const;
export type ArithmeticOp = (typeof ARITHMETIC_OPS)[number];
export type PredicateOp = (typeof PREDICATE_OPS)[number];
export type BinaryOp = ArithmeticOp | PredicateOp;

// LogicalXor is no tfjs kernel (tfjs composes logicalXor from And, Or and Not).
for (const op of [...ARITHMETIC_OPS, ...PREDICATE_OPS]) if (op !== 'LogicalXor') declareCpuOp(op);

const LOGICAL = new Set<string>(['LogicalAnd', 'LogicalOr', 'LogicalXor']);
const PREDICATES = new Set<string>(PREDICATE_OPS);

function outDTypeOf(op: BinaryOp, input: DType): DType {
  return PREDICATES.has(op) ? 'bool' : op === 'FloorDiv' ? 'int32' : input;
}

/** Applies `op` elementwise to a and b (same dtype) broadcast together. */
export function binary(op: BinaryOp, a: DeviceArray, b: DeviceArray): DeviceArray {
  checkArray(op, 'a', a);
  checkArray(op, 'b', b);
  if (LOGICAL.has(op)) checkDType(op, 'a', a, ['bool']);
  else if (op === 'BitwiseAnd') checkDType(op, 'a', a, ['int32']);
  else if (!PREDICATES.has(op)) checkDType(op, 'a', a, ['float32', 'int32']);
  checkSameDType(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape, outDTypeOf(op, a.dtype), a.device);
  native.binary(op, a.data, a.shape, b.data, b.shape, out.data);
  return out;
}

/** The scalar reference of `binary`, used as the test oracle. */
export function binaryRef(op: BinaryOp, a: DeviceArray, b: DeviceArray): DeviceArray {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape, outDTypeOf(op, a.dtype), a.device);
  native.binaryRef(op, a.data, a.shape, b.data, b.shape, out.data);
  return out;
}

export const add = (a: DeviceArray, b: DeviceArray) => binary('Add', a, b);
export const sub = (a: DeviceArray, b: DeviceArray) => binary('Sub', a, b);
export const mul = (a: DeviceArray, b: DeviceArray) => binary('Multiply', a, b);
export const div = (a: DeviceArray, b: DeviceArray) => binary('RealDiv', a, b);
export const floorDiv = (a: DeviceArray, b: DeviceArray) => binary('FloorDiv', a, b);
export const maximum = (a: DeviceArray, b: DeviceArray) => binary('Maximum', a, b);
export const minimum = (a: DeviceArray, b: DeviceArray) => binary('Minimum', a, b);
export const pow = (a: DeviceArray, b: DeviceArray) => binary('Pow', a, b);
export const squaredDifference = (a: DeviceArray, b: DeviceArray) => binary('SquaredDifference', a, b);
export const mod = (a: DeviceArray, b: DeviceArray) => binary('Mod', a, b);
export const atan2 = (a: DeviceArray, b: DeviceArray) => binary('Atan2', a, b);
export const bitwiseAnd = (a: DeviceArray, b: DeviceArray) => binary('BitwiseAnd', a, b);
export const equal = (a: DeviceArray, b: DeviceArray) => binary('Equal', a, b);
export const notEqual = (a: DeviceArray, b: DeviceArray) => binary('NotEqual', a, b);
export const less = (a: DeviceArray, b: DeviceArray) => binary('Less', a, b);
export const lessEqual = (a: DeviceArray, b: DeviceArray) => binary('LessEqual', a, b);
export const greater = (a: DeviceArray, b: DeviceArray) => binary('Greater', a, b);
export const greaterEqual = (a: DeviceArray, b: DeviceArray) => binary('GreaterEqual', a, b);
export const logicalAnd = (a: DeviceArray, b: DeviceArray) => binary('LogicalAnd', a, b);
export const logicalOr = (a: DeviceArray, b: DeviceArray) => binary('LogicalOr', a, b);
export const logicalXor = (a: DeviceArray, b: DeviceArray) => binary('LogicalXor', a, b);
