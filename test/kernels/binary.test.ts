import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';

import { array, binary, binaryRef, add, ARITHMETIC_OPS, PREDICATE_OPS, type BinaryOp } from '../../src/kernels/index.js';
import type { DType } from '../../src/kernels/array.js';
import { checkLeaks, expectClose, randomShape, randomValues, rng } from '../helpers.js';

checkLeaks();

// Ops whose float results go through a libm function: allow for libm differences against
// V8's Math (the native reference uses the same functions, so that comparison stays tight).
const LIBM = new Set<string>(['Pow', 'Atan2']);

function dtypesFor(op: BinaryOp): DType[] {
  if (op.startsWith('Logical')) return ['bool'];
  if (op === 'BitwiseAnd') return ['int32'];
  if ((PREDICATE_OPS as readonly string[]).includes(op)) return ['float32', 'int32', 'bool'];
  return ['float32', 'int32'];
}

function tfjsCpu(op: BinaryOp, a: number[], aShape: number[], b: number[], bShape: number[], dtype: DType): ArrayLike<number> {
  tf.setBackend('cpu');
  // tfjs has no LogicalXor kernel (its op is composed), so compose it the same way here.
  if (op === 'LogicalXor') return tf.tidy(() => tf.logicalXor(tf.tensor(a, aShape, dtype), tf.tensor(b, bShape, dtype)).dataSync());
  return tf.tidy(() => {
    const ta = tf.tensor(a, aShape, dtype);
    const tb = tf.tensor(b, bShape, dtype);
    const out = tf.engine().runKernel(op, { a: ta, b: tb }) as tf.Tensor;
    return out.dataSync();
  });
}

function check(op: BinaryOp, aShape: number[], bShape: number[], dtype: DType, a: number[], b: number[]): void {
  const da = array(a, aShape, dtype);
  const db = array(b, bShape, dtype);
  const out = binary(op, da, db);
  const ref = binaryRef(op, da, db);
  const tol = LIBM.has(op) ? { rel: 1e-6 } : {};
  expectClose(out.data, ref.data, out.dtype, {});
  expectClose(out.data, tfjsCpu(op, a, aShape, b, bShape, dtype), out.dtype, tol);
  for (const x of [da, db, out, ref]) x.dispose();
}

describe('binary kernels', () => {
  for (const op of [...ARITHMETIC_OPS, ...PREDICATE_OPS]) {
    for (const dtype of dtypesFor(op)) {
      it(`${op} ${dtype}: random shapes with broadcasting`, () => {
        const seed = 1000 + op.length * 7 + dtype.length;
        const rand = rng(seed);
        for (let trial = 0; trial < 12; trial++) {
          const rank = Math.floor(rand() * 5);
          const out = randomShape(rand, rank);
          // Each input drops leading dims or sets some to 1 at random: every broadcast pattern.
          const shrink = (s: number[]) => s.slice(Math.floor(rand() * (s.length + 1))).map((d) => (rand() < 0.3 ? 1 : d));
          const aShape = shrink(out);
          const bShape = shrink(out);
          const n = (s: number[]) => s.reduce((x, y) => x * y, 1);
          // Pow of int32 with a negative exponent is a fraction: keep exponents non-negative there.
          const lo = op === 'Pow' ? 0 : -10;
          const hi = op === 'Pow' ? 3 : 10;
          check(op, aShape, bShape, dtype, randomValues(rand, n(aShape), dtype, lo, hi), randomValues(rand, n(bShape), dtype, op === 'Pow' && dtype === 'int32' ? 0 : lo, hi));
        }
      });
    }
    if (dtypesFor(op).includes('float32')) {
      it(`${op} float32: NaN, Inf, zeros, signed zeros`, () => {
        const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5, -3.5, 1e30, -1e-30];
        const a: number[] = [];
        const b: number[] = [];
        for (const x of special) for (const y of special) { a.push(x); b.push(y); }
        check(op, [a.length], [b.length], 'float32', a, b);
      });
    }
  }

  it('empty tensors give empty results with the broadcast shape', () => {
    const a = array([], [0, 3], 'float32');
    const b = array([1, 2, 3], [3], 'float32');
    const out = add(a, b);
    expect(out.shape).toEqual([0, 3]);
    expect(out.data.length).toBe(0);
    for (const x of [a, b, out]) x.dispose();
  });

  it('large sizes split across threads agree with the reference', () => {
    const rand = rng(7);
    for (const [aShape, bShape] of [[[1 << 20], [1 << 20]], [[512, 2048], [2048]], [[2048, 1], [1, 512]], [[3, 333, 1111], [333, 1]]] as number[][][]) {
      const n = (s: number[]) => s.reduce((x, y) => x * y, 1);
      const a = array(randomValues(rand, n(aShape), 'float32'), aShape);
      const b = array(randomValues(rand, n(bShape), 'float32'), bShape);
      for (const op of ['Add', 'Multiply', 'Maximum', 'Less'] as BinaryOp[]) {
        const out = binary(op, a, b);
        const ref = binaryRef(op, a, b);
        expectClose(out.data, ref.data, out.dtype, { abs: 0, rel: 0 });
        out.dispose();
        ref.dispose();
      }
      a.dispose();
      b.dispose();
    }
  });

  it('int32 arithmetic wraps like an Int32Array store', () => {
    const a = array([2147483647, -2147483648, 65536, 7, -7], [5], 'int32');
    const b = array([1, -1, 65536, 0, 2], [5], 'int32');
    const sum = binary('Add', a, b);
    const prod = binary('Multiply', a, b);
    const fdiv = binary('FloorDiv', a, b);
    expect([...sum.data]).toEqual([-2147483648, 2147483647, 131072, 7, -5]);
    expect([...prod.data]).toEqual([2147483647, -2147483648, 0, 0, -14]);
    expect([...fdiv.data]).toEqual([2147483647, -2147483648, 1, 0, -4]);
    for (const x of [a, b, sum, prod, fdiv]) x.dispose();
  });

  it('bad arguments give errors naming the op, the argument and what was expected', () => {
    const f = array([1, 2, 3], [3]);
    const i = array([1, 2, 3], [3], 'int32');
    const g = array([1, 2], [2]);
    expect(() => binary('Add', f, i)).toThrow('Add: expected dtype float32 (that of a) for b but got int32');
    expect(() => binary('Add', f, g)).toThrow('Add: expected shapes that broadcast together for a and b but got [3] and [2]');
    expect(() => binary('Add', f, [1, 2, 3] as never)).toThrow('Add: expected a DeviceArray for b but got a plain array');
    expect(() => binary('LogicalAnd', f, f)).toThrow('LogicalAnd: expected dtype bool for a but got float32');
    g.dispose();
    expect(() => binary('Add', g, g)).toThrow('Add: expected a live DeviceArray for a but got one already disposed');
    f.dispose();
    i.dispose();
  });
});
