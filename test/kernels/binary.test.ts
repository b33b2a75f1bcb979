import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

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

  it('the generic and AVX2 builds of the element loops give the reference results', () => {
    // TESSERA_ISA is read once per process, so each narrower path runs in a child process.
    const addon = fileURLToPath(new URL('../../build/Release/tessera.node', import.meta.url));
    const cases = [...ARITHMETIC_OPS, ...PREDICATE_OPS].flatMap((op) => dtypesFor(op).map((dtype) => [op, dtype]));
    const script = `
      const a = require(${JSON.stringify(addon)});
      let s = 9;
      const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
      const specials = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5, -3.5, 1e30, -1e-30];
      const fill = (x, d) => {
        for (let i = 0; i < x.length; i++) {
          const v = (rand() - 0.5) * 20;
          x[i] = d === 'float32' ? (i % 97 < specials.length ? specials[i % 97] : v) : d === 'int32' ? Math.round(v * 1e8) : v > 0 ? 1 : 0;
        }
      };
      const outType = (op, d) => ${JSON.stringify(PREDICATE_OPS)}.includes(op) ? 'bool' : op === 'FloorDiv' ? 'int32' : d;
      // One long row (split across threads), rows against a row, and a column against a row:
      // the contiguous, broadcast-scalar and strided loops with their tails.
      const shapes = [[[70001], [70001]], [[257, 301], [301]], [[257, 1], [257, 301]], [[300, 257], [1]]];
      const bad = [];
      for (const [op, d] of ${JSON.stringify(cases)}) for (const [as, bs] of shapes) {
        const n = (sh) => sh.reduce((x, y) => x * y, 1);
        const os = as.length === 1 ? as : [as[0], Math.max(as[1], bs[bs.length - 1])];
        const x = a.alloc(d, n(as)), y = a.alloc(d, n(bs));
        fill(x, d);
        fill(y, d);
        const o = a.alloc(outType(op, d), n(os)), r = a.alloc(outType(op, d), n(os));
        a.binary(op, x, as, y, bs, o);
        a.binaryRef(op, x, as, y, bs, r);
        for (let i = 0; i < o.length; i++) if (!Object.is(o[i], r[i]) && !(o[i] !== o[i] && r[i] !== r[i])) { bad.push(op + ' ' + d + ' [' + as + '] [' + bs + '] element ' + i + ': ' + o[i] + ' vs ' + r[i]); break; }
      }
      console.log(a.buildInfo().isa);
      console.log(JSON.stringify(bad));
    `;
    for (const isa of ['generic', 'avx2']) {
      const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TESSERA_ISA: isa }, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      const [isaLine, badLine] = child.stdout.trim().split('\n');
      expect(isaLine).toBe(isa);
      expect(JSON.parse(badLine), isa).toEqual([]);
    }
  });

  it('several JS threads run threaded kernels at once, each getting its own results', async () => {
    // The pool runs one parallel region at a time; callers from other threads wait their turn.
    const addon = fileURLToPath(new URL('../../build/Release/tessera.node', import.meta.url));
    const body = `
      const { parentPort, workerData } = require('node:worker_threads');
      const a = require(workerData.addon);
      const n = 1 << 20;
      const x = a.alloc('float32', n), y = a.alloc('float32', n), o = a.alloc('float32', n);
      let mismatches = 0;
      for (let rep = 0; rep < 40; rep++) {
        const shift = workerData.id * 1000 + rep;
        for (let i = 0; i < n; i += 4099) { x[i] = i + shift; y[i] = shift; }
        a.binary('Add', x, [n], y, [n], o);
        for (let i = 0; i < n; i += 4099) if (o[i] !== Math.fround(i + 2 * shift)) mismatches++;
      }
      parentPort.postMessage(mismatches);
    `;
    const workers = [1, 2, 3].map((id) => new Worker(body, { eval: true, workerData: { addon, id } }));
    const results = workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    // The main thread keeps the pool busy meanwhile.
    const rand = rng(3);
    const x = array(randomValues(rand, 1 << 20, 'float32'), [1 << 20]);
    for (let rep = 0; rep < 20; rep++) {
      const out = binary('Multiply', x, x);
      const ref = binaryRef('Multiply', x, x);
      expectClose(out.data, ref.data, 'float32', { abs: 0, rel: 0 });
      out.dispose();
      ref.dispose();
    }
    x.dispose();
    expect(await Promise.all(results)).toEqual([0, 0, 0]);
    await Promise.all(workers.map((w) => w.terminate()));
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
