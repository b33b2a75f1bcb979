import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { describe, expect, it } from 'vitest';

import { kernelCoverage } from '../../src/index.js';
import {
  addN, addNRef, array, cast, castRef, clipByValue, eluGrad, eluGradRef, fill, fillRef, isNaN as isNaNKernel, leakyRelu, onesLike,
  prelu, preluRef, relu, round, select, selectRef, sigmoid, step, UNARY_OPS, unary, unaryOutDType, unaryRef, zerosLike,
  type DeviceArray, type UnaryAttrs, type UnaryOp,
} from '../../src/kernels/index.js';
import type { DType } from '../../src/kernels/array.js';
import { native } from '../../src/native.js';
import { checkLeaks, randomShape, rng } from '../helpers.js';

checkLeaks();

// Tolerances, in float32 ulps (int32 and bool results are always compared exactly, and so is
// the sign of a zero):
// - native vs its scalar reference: exact, except the exp-based float32 activations, whose
//   AVX2 path computes e^x with its own double-precision polynomial: within 1 ulp (in practice
//   identical: see native/cpu/unary.cc).
// - native vs tfjs-backend-cpu: exact, except ops that call a libm function, where glibc's
//   double result may differ from V8's (fdlibm) by a double ulp, which can move the float
//   rounding by 1 ulp.
const EXP_FAMILY = new Set<string>(['Exp', 'Expm1', 'Sigmoid', 'Tanh', 'Elu', 'Selu']);
const LIBM = new Set<string>([
  'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Cos', 'Cosh', 'Erf', 'Exp', 'Expm1', 'Log', 'Log1p', 'Sin', 'Sinh',
  'Tan', 'Tanh', 'Elu', 'Selu', 'Sigmoid', 'Softplus',
]);

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
/** Position of a float32 on the number line of floats (so that ulp distance is a difference). */
function floatOrdinal(v: number): number {
  f32[0] = v;
  return i32[0] < 0 ? -2147483648 - i32[0] : i32[0];
}

/**
 * Equal values (NaN equal to NaN, -0 distinct from 0) or, for float32 with maxUlps > 0,
 * within maxUlps; `compared` limits the check to some elements.
 */
function expectValues(actual: ArrayLike<number>, expected: ArrayLike<number>, dtype: string, maxUlps = 0, what = '',
  compared: (i: number) => boolean = () => true): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!compared(i)) continue;
    const a = actual[i];
    const e = expected[i];
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const close = dtype === 'float32' && maxUlps > 0 && Number.isFinite(a) && Number.isFinite(e) &&
      Math.abs(floatOrdinal(a) - floatOrdinal(e)) <= maxUlps;
    if (!close) expect.fail(`${what} element ${i}: expected ${Object.is(e, -0) ? '-0' : e} but got ${Object.is(a, -0) ? '-0' : a}${maxUlps ? ` (tolerance ${maxUlps} ulp)` : ''}`);
  }
}

// ---------------------------------------------------------------------------------------
// Input data

const FLOAT_SPECIALS = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 0.49999997, -0.49999997, 0.50000006,
  -0.50000006, 0.99999994, -0.99999994, 1.0000001, 1e-45, -1e-45, 1.1754944e-38, 1e-30, -1e-30, 1e-8, -1e-8, 3e-9, -4.933276009921883e-13, -3.974043316645748e-13,
  1e30, -1e30, 3.4028235e38, -3.4028235e38, 6, 6.0000005, 5.9999995, 88.72, 89, -87.3, -103.9, -104, 20, -20, 9.5,
  2147483648, -2147483648, 2147483520, -2147483904, 4294967296, 6442450944, 16777217, 1e10, -1e10, -13.942385, -13.942386,
  13.942385, 13.942386,
];
const INT_SPECIALS = [0, 1, -1, 2, -2, 5, 6, 7, -7, 46341, -46341, 65536, 16777217, -16777217, 2147483647, -2147483648];

function domainOf(op: string): [number, number] {
  switch (op) {
    case 'Acos': case 'Asin': case 'Atanh': return [-1.2, 1.2];
    case 'Acosh': return [0, 4];
    case 'Log': case 'Log1p': case 'Sqrt': case 'Rsqrt': return [-1.5, 10];
    case 'Exp': case 'Expm1': case 'Sinh': case 'Cosh': case 'Sigmoid': case 'Tanh': case 'Elu': case 'Selu': case 'Softplus':
      return [-30, 30];
    default: return [-10, 10];
  }
}

/** A mix of the op's domain (and past its edges), all magnitudes, and half-integers (Round's ties). */
function randomFloats(rand: () => number, n: number, op: string): number[] {
  const [lo, hi] = domainOf(op);
  return Array.from({ length: n }, () => {
    const r = rand();
    if (r < 0.5) return Math.fround(lo + (hi - lo) * rand());
    if (r < 0.8) return Math.fround((rand() < 0.5 ? -1 : 1) * 2 ** (-40 + 80 * rand()));
    return Math.round(-40 + 80 * rand()) / 2;
  });
}

function randomInts(rand: () => number, n: number): number[] {
  return Array.from({ length: n }, () => (rand() < 0.1 ? INT_SPECIALS[Math.floor(rand() * INT_SPECIALS.length)] : Math.round(-50 + 100 * rand())));
}

function randomData(rand: () => number, n: number, dtype: DType, op = ''): number[] {
  if (dtype === 'float32') return randomFloats(rand, n, op);
  if (dtype === 'int32') return randomInts(rand, n);
  return Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1));
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------
// tfjs-backend-cpu as the oracle

interface TensorSpec {
  values: ArrayLike<number>;
  shape: number[];
  dtype: DType;
}

interface KernelOutput {
  values: ArrayLike<number>;
  shape: number[];
  dtype: string;
}

/** Runs one kernel on `backend` through tf.engine().runKernel. */
function runKernel(backend: string, op: string, inputs: Record<string, TensorSpec> | TensorSpec[], attrs: object = {}): KernelOutput {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const make = (s: TensorSpec) => tf.tensor(Array.from(s.values), s.shape, s.dtype);
    const ins = Array.isArray(inputs) ? inputs.map(make) : Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, make(v)]));
    const out = tf.engine().runKernel(op, ins as never, attrs as never) as tf.Tensor;
    return { values: out.dataSync(), shape: out.shape, dtype: out.dtype };
  });
}

function spec(x: DeviceArray): TensorSpec {
  return { values: x.data, shape: [...x.shape], dtype: x.dtype };
}

/** The attribute sets each op is tested with. */
function attrSets(op: UnaryOp): UnaryAttrs[] {
  if (op === 'Step') return [{ alpha: 0 }, { alpha: -1.5 }, { alpha: 0.3 }];
  if (op === 'LeakyRelu') return [{ alpha: 0.2 }, { alpha: 0.1 }, { alpha: -3 }];
  if (op === 'ClipByValue') return [{ clipValueMin: -0.3, clipValueMax: 0.7 }, { clipValueMin: -2, clipValueMax: 3 }, { clipValueMin: 5, clipValueMax: 1 }];
  return [{}];
}

const DTYPES: DType[] = ['float32', 'int32', 'bool'];

/**
 * Which int32 results of a libm op two libms must agree on: an int32 output is ToInt32 of the
 * double result, so beyond 2^31 it is that double's low-order bits modulo 2^32, and a double
 * ulp between glibc and V8 (fdlibm) changes it. Elements whose value (as tfjs computes it on
 * the float32 input) is that large are left out of the comparison.
 */
function comparedElements(op: UnaryOp, x: TensorSpec, attrs: UnaryAttrs, outDType: string): (i: number) => boolean {
  if (!LIBM.has(op) || outDType !== 'int32') return () => true;
  const exact = runKernel('cpu', op, { x: { ...x, values: Float32Array.from(x.values), dtype: 'float32' } }, attrs).values;
  return (i) => !(Math.abs(exact[i]) >= 2 ** 31);
}

function checkUnary(op: UnaryOp, x: DeviceArray, attrs: UnaryAttrs, what: string): void {
  const out = unary(op, x, attrs);
  const ref = unaryRef(op, x, attrs);
  try {
    expect(out.dtype).toBe(unaryOutDType(op, x.dtype));
    expect(out.shape).toEqual(x.shape);
    expectValues(out.data, ref.data, out.dtype, EXP_FAMILY.has(op) ? 1 : 0, `${what} vs reference`);
    const tfjs = runKernel('cpu', op, { x: spec(x) }, attrs);
    expect(tfjs.dtype).toBe(out.dtype);
    expectValues(out.data, tfjs.values, out.dtype, LIBM.has(op) ? 1 : 0, `${what} vs tfjs-backend-cpu`,
      comparedElements(op, spec(x), attrs, out.dtype));
  } finally {
    out.dispose();
    ref.dispose();
  }
}

// ---------------------------------------------------------------------------------------

describe('unary kernels', () => {
  for (const op of UNARY_OPS) {
    for (const dtype of DTYPES) {
      it(`${op} ${dtype}: random shapes and values, vs reference and tfjs-backend-cpu`, () => {
        const rand = rng(7000 + UNARY_OPS.indexOf(op) * 3 + DTYPES.indexOf(dtype));
        for (const attrs of attrSets(op)) {
          for (let trial = 0; trial < 6; trial++) {
            const shape = randomShape(rand, Math.floor(rand() * 5));
            const x = array(randomData(rand, sizeOf(shape), dtype, op), shape, dtype);
            try {
              checkUnary(op, x, attrs, `${op} ${dtype} [${shape}] ${JSON.stringify(attrs)}`);
            } finally {
              x.dispose();
            }
          }
        }
      });
    }

    it(`${op}: NaN, ±Inf, ±0, domain edges, int32 extremes`, () => {
      for (const attrs of attrSets(op)) {
        const xf = array(FLOAT_SPECIALS, [FLOAT_SPECIALS.length], 'float32');
        const xi = array(INT_SPECIALS, [INT_SPECIALS.length], 'int32');
        try {
          checkUnary(op, xf, attrs, `${op} float32 specials ${JSON.stringify(attrs)}`);
          checkUnary(op, xi, attrs, `${op} int32 specials ${JSON.stringify(attrs)}`);
        } finally {
          xf.dispose();
          xi.dispose();
        }
      }
    });

    it(`${op}: empty tensors`, () => {
      for (const shape of [[0], [2, 0, 3]]) {
        for (const dtype of DTYPES) {
          const x = array([], shape, dtype);
          const out = unary(op, x, attrSets(op)[0]);
          expect(out.shape).toEqual(shape);
          expect(out.dtype).toBe(unaryOutDType(op, dtype));
          expect(out.data.length).toBe(0);
          out.dispose();
          x.dispose();
        }
      }
    });
  }

  it('1M elements (split across threads) agree with the reference for every op', () => {
    const rand = rng(99);
    const n = 1 << 20;
    for (const op of UNARY_OPS) {
      const x = array(randomFloats(rand, n, op), [n], 'float32');
      const attrs = attrSets(op)[0];
      const out = unary(op, x, attrs);
      const ref = unaryRef(op, x, attrs);
      expectValues(out.data, ref.data, out.dtype, EXP_FAMILY.has(op) ? 1 : 0, `${op} 1M`);
      for (const a of [x, out, ref]) a.dispose();
    }
    const xi = array(randomInts(rand, n), [n], 'int32');
    for (const op of ['Abs', 'Neg', 'Square', 'Relu', 'Relu6', 'Sign', 'Exp', 'Sqrt'] as UnaryOp[]) {
      const out = unary(op, xi);
      const ref = unaryRef(op, xi);
      expectValues(out.data, ref.data, out.dtype, 0, `${op} int32 1M`);
      out.dispose();
      ref.dispose();
    }
    xi.dispose();
  });

  it('1M elements agree with tfjs-backend-cpu for the common activations', () => {
    const rand = rng(100);
    const n = 1 << 20;
    const x = array(randomFloats(rand, n, 'Sigmoid'), [n], 'float32');
    for (const op of ['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Elu', 'Abs', 'Neg', 'Square', 'Sqrt'] as UnaryOp[]) {
      const out = unary(op, x);
      expectValues(out.data, runKernel('cpu', op, { x: spec(x) }).values, out.dtype, LIBM.has(op) ? 1 : 0, `${op} 1M vs tfjs`);
      out.dispose();
    }
    x.dispose();
  });

  it('semantics tfjs pins down: banker\'s rounding, Relu of NaN and -0, Abs of int32 through float32, Step of NaN', () => {
    const values = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.3, 0.49999997, -0.49999997];
    const x = array(values, [values.length]);
    const r = round(x);
    expectValues(r.data, [0, 2, 2, 0, -2, -2, -0, 0, -0], 'float32');
    const special = array([NaN, -0, -1, 3], [4]);
    const rl = relu(special);
    expectValues(rl.data, [NaN, 0, 0, 3], 'float32');
    const st = step(special, 0.25);
    expectValues(st.data, [NaN, 0.25, 0.25, 1], 'float32');
    const nan = isNaNKernel(special);
    expect(nan.dtype).toBe('bool');
    expect([...nan.data]).toEqual([1, 0, 0, 0]);
    // Abs.js computes into a Float32Array: 2^24 + 1 rounds, 2^31 - 1 becomes 2^31 and wraps.
    const ints = array([16777217, 2147483647, -2147483648, -5], [4], 'int32');
    const ab = unary('Abs', ints);
    expect(ab.dtype).toBe('int32');
    expect([...ab.data]).toEqual([16777216, -2147483648, -2147483648, 5]);
    const lr = leakyRelu(ints, 0.5);
    expect(lr.dtype).toBe('float32');
    for (const a of [x, r, special, rl, st, nan, ints, ab, lr]) a.dispose();
  });

  it('the generic and AVX2 build paths give the reference results', () => {
    // TESSERA_ISA is read once per process, so each narrower path runs in a child process.
    // The AVX2 e^x family is left out there: AVX-512 machines run that same code in-process.
    const addon = fileURLToPath(new URL('../../build/Release/tessera.node', import.meta.url));
    const script = `
      const a = require(${JSON.stringify(addon)});
      const isa = a.buildInfo().isa;
      const ops = ${JSON.stringify(UNARY_OPS)}.filter((op) => isa === 'generic' || !${JSON.stringify([...EXP_FAMILY])}.includes(op));
      const specials = ${JSON.stringify(FLOAT_SPECIALS.map((v) => (Object.is(v, -0) ? '-0' : String(v))))}.map(Number);
      let s = 5;
      const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
      const n = 70000;
      const x = a.alloc('float32', n);
      for (let i = 0; i < n; i++) x[i] = i < specials.length ? specials[i] : (rand() - 0.5) * 2 ** (60 * rand() - 20);
      const xi = a.alloc('int32', n);
      for (let i = 0; i < n; i++) xi[i] = Math.round((rand() - 0.5) * 2 ** (32 * rand()));
      const outType = (op, d) => ['IsFinite', 'IsInf', 'IsNan', 'LogicalNot'].includes(op) ? 'bool' : ['Exp', 'LeakyRelu'].includes(op) ? 'float32' : d;
      const bad = [];
      for (const op of ops) for (const [input, d] of [[x, 'float32'], [xi, 'int32']]) {
        const o = a.alloc(outType(op, d), n), r = a.alloc(outType(op, d), n);
        a.unary(op, input, o, 0.2, 0.7);
        a.unaryRef(op, input, r, 0.2, 0.7);
        for (let i = 0; i < n; i++) if (!Object.is(o[i], r[i]) && !(o[i] !== o[i] && r[i] !== r[i])) { bad.push(op + ' ' + d + ' ' + input[i] + ': ' + o[i] + ' vs ' + r[i]); break; }
      }
      console.log('isa ' + isa);
      console.log(JSON.stringify(bad));
    `;
    for (const isa of ['generic', 'avx2']) {
      const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TESSERA_ISA: isa }, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      const [isaLine, badLine] = child.stdout.trim().split('\n');
      expect(isaLine).toBe(`isa ${isa}`);
      expect(JSON.parse(badLine), isa).toEqual([]);
    }
  });
});

describe('Cast', () => {
  const floats = [0, -0, 1.5, -1.5, 2.9, -2.9, NaN, Infinity, -Infinity, 2147483647, 2147483648, -2147483648, -2147483904, 4294967296,
    6442450944, 1e10, -1e10, 3.4e38, 0.1, -0.9, 16777216];
  const ints = [0, 1, -1, 7, 16777216, -16777216, 2147483647, -2147483648];

  for (const from of DTYPES) {
    for (const to of DTYPES) {
      it(`${from} -> ${to}: reference, tfjs-backend-cpu, and a new buffer`, () => {
        const rand = rng(300 + DTYPES.indexOf(from) * 3 + DTYPES.indexOf(to));
        const values = from === 'float32' ? [...floats, ...randomFloats(rand, 200, '')] : from === 'int32' ? [...ints, ...randomInts(rand, 200)] : randomData(rand, 200, 'bool');
        const x = array(values, [values.length], from);
        const out = cast(x, to);
        const ref = castRef(x, to);
        expect(out.dtype).toBe(to);
        expect(out.data).not.toBe(x.data);
        expectValues(out.data, ref.data, to, 0, 'vs reference');
        // tfjs-backend-cpu leaves an int32 -> float32 cast in the Int32Array (no copy), so there
        // ints beyond 2^24 read back unrounded; a float32 buffer holds them rounded.
        const tfjs = runKernel('cpu', 'Cast', { x: spec(x) }, { dtype: to });
        const expected = from === 'int32' && to === 'float32' ? Array.from(tfjs.values, Math.fround) : tfjs.values;
        expectValues(out.data, expected, to, 0, 'vs tfjs-backend-cpu');
        for (const a of [x, out, ref]) a.dispose();
      });
    }
  }

  it('float32 -> int32 and bool follow ToInt32 and x !== 0 (NaN is true)', () => {
    const x = array([NaN, Infinity, 2147483648, -2.5, 0.5, -0], [6]);
    const i = cast(x, 'int32');
    const b = cast(x, 'bool');
    expect([...i.data]).toEqual([0, 0, -2147483648, -2, 0, 0]);
    expect([...b.data]).toEqual([1, 1, 1, 1, 1, 0]);
    for (const a of [x, i, b]) a.dispose();
  });

  it('1M elements, with out-of-range values in some chunks only', () => {
    const n = 1 << 20;
    const rand = rng(5);
    const values = Array.from({ length: n }, (_, i) => (i > n - 1000 && rand() < 0.1 ? (rand() - 0.5) * 1e12 : (rand() - 0.5) * 1e6));
    const x = array(values, [n]);
    for (const to of DTYPES) {
      const out = cast(x, to);
      const ref = castRef(x, to);
      expectValues(out.data, ref.data, to, 0, `to ${to}`);
      out.dispose();
      ref.dispose();
    }
    x.dispose();
  });
});

describe('Fill, ZerosLike, OnesLike', () => {
  it('fill stores the value as each dtype\'s typed array does, like tfjs', () => {
    const values: (number | boolean)[] = [0, -0, 0.5, -1.5, 1e10, -2147483649, NaN, Infinity, 300, true, false];
    for (const dtype of DTYPES) {
      for (const value of values) {
        const shape = [2, 3];
        const out = fill(shape, value, dtype);
        const ref = fillRef(shape, value, dtype);
        expect(out.dtype).toBe(dtype);
        expectValues(out.data, ref.data, dtype, 0, `${value} ${dtype} vs reference`);
        expectValues(out.data, runKernel('cpu', 'Fill', [], { shape, value, dtype }).values, dtype, 0, `${value} ${dtype} vs tfjs`);
        out.dispose();
        ref.dispose();
      }
    }
  });

  it('large and empty fills', () => {
    const big = fill([1 << 20], 2.5);
    expect(big.data.every((v) => v === 2.5)).toBe(true);
    const none = fill([3, 0], 1, 'int32');
    expect(none.data.length).toBe(0);
    big.dispose();
    none.dispose();
  });

  it('zerosLike and onesLike keep shape and dtype', () => {
    for (const dtype of DTYPES) {
      const x = array([1, 0, 1, 1, 0, 1], [3, 2], dtype);
      const z = zerosLike(x);
      const o = onesLike(x);
      expect([z.dtype, o.dtype]).toEqual([dtype, dtype]);
      expect(z.shape).toEqual([3, 2]);
      expect([...z.data]).toEqual([0, 0, 0, 0, 0, 0]);
      expect([...o.data]).toEqual([1, 1, 1, 1, 1, 1]);
      for (const a of [x, z, o]) a.dispose();
    }
  });
});

describe('Select', () => {
  for (const tType of DTYPES) {
    for (const eType of DTYPES) {
      it(`t ${tType}, e ${eType}: condition of t's shape, vs reference and tfjs-backend-cpu`, () => {
        const rand = rng(400 + DTYPES.indexOf(tType) * 3 + DTYPES.indexOf(eType));
        for (let trial = 0; trial < 8; trial++) {
          const shape = trial === 0 ? [0, 4] : randomShape(rand, Math.floor(rand() * 5));
          const n = sizeOf(shape);
          const c = array(randomData(rand, n, 'bool'), shape, 'bool');
          const t = array(randomData(rand, n, tType), shape, tType);
          const e = array(randomData(rand, n, eType), shape, eType);
          const out = select(c, t, e);
          const ref = selectRef(c, t, e);
          const tfjs = runKernel('cpu', 'Select', { condition: spec(c), t: spec(t), e: spec(e) });
          expect(out.dtype).toBe(tfjs.dtype);
          expectValues(out.data, ref.data, out.dtype, 0, 'vs reference');
          expectValues(out.data, tfjs.values, out.dtype, 0, 'vs tfjs');
          for (const a of [c, t, e, out, ref]) a.dispose();
        }
      });
    }
  }

  it('a vector condition picks whole rows of t or e (TensorFlow Select), as tf.where with a broadcast condition', () => {
    const rand = rng(41);
    for (const shape of [[5, 3], [4, 2, 3], [7, 1], [3, 1 << 16]]) {
      const n = sizeOf(shape);
      const c = array(randomData(rand, shape[0], 'bool'), [shape[0]], 'bool');
      const t = array(randomData(rand, n, 'float32'), shape);
      const e = array(randomData(rand, n, 'float32'), shape);
      const out = select(c, t, e);
      const ref = selectRef(c, t, e);
      expectValues(out.data, ref.data, 'float32', 0, 'vs reference');
      tf.setBackend('cpu');
      const expected = tf.tidy(() => {
        const cond = tf.tensor(Array.from(c.data), [shape[0], ...shape.slice(1).map(() => 1)], 'bool');
        return tf.where(cond, tf.tensor(Array.from(t.data), shape), tf.tensor(Array.from(e.data), shape)).dataSync();
      });
      expectValues(out.data, expected, 'float32', 0, 'vs tf.where');
      for (const a of [c, t, e, out, ref]) a.dispose();
    }
  });

  it('1M elements', () => {
    const rand = rng(42);
    const n = 1 << 20;
    const c = array(randomData(rand, n, 'bool'), [n], 'bool');
    const t = array(randomData(rand, n, 'float32'), [n]);
    const e = array(randomData(rand, n, 'int32'), [n], 'int32');
    const out = select(c, t, e);
    const ref = selectRef(c, t, e);
    expectValues(out.data, ref.data, 'float32', 0, '1M');
    for (const a of [c, t, e, out, ref]) a.dispose();
  });
});

describe('AddN', () => {
  for (const dtype of ['float32', 'int32'] as DType[]) {
    it(`${dtype}: 1 to 6 inputs, vs reference and tfjs-backend-cpu`, () => {
      const rand = rng(dtype === 'float32' ? 500 : 501);
      for (let count = 1; count <= 6; count++) {
        const shape = randomShape(rand, Math.floor(rand() * 4));
        const xs = Array.from({ length: count }, () => array(randomData(rand, sizeOf(shape), dtype), shape, dtype));
        const out = addN(xs);
        const ref = addNRef(xs);
        expectValues(out.data, ref.data, dtype, 0, 'vs reference');
        expectValues(out.data, runKernel('cpu', 'AddN', xs.map(spec)).values, dtype, 0, 'vs tfjs');
        for (const a of [...xs, out, ref]) a.dispose();
      }
    });
  }

  it('adds from +0 in input order, rounding to float32 after each addition; int32 wraps', () => {
    const a = array([-0, 1e8, 1, NaN], [4]);
    const b = array([-0, 1, 1e8, 1], [4]);
    const c = array([-0, -1e8, -1e8, 1], [4]);
    const out = addN([a, b, c]);
    expectValues(out.data, [0, 0, 0, NaN], 'float32');
    const i = array([2147483647, -2147483648], [2], 'int32');
    const j = array([1, -1], [2], 'int32');
    const wrapped = addN([i, j]);
    expect([...wrapped.data]).toEqual([-2147483648, 2147483647]);
    for (const x of [a, b, c, out, i, j, wrapped]) x.dispose();
  });

  it('1M elements, 4 inputs', () => {
    const rand = rng(502);
    const n = 1 << 20;
    const xs = Array.from({ length: 4 }, () => array(randomData(rand, n, 'float32'), [n]));
    const out = addN(xs);
    const ref = addNRef(xs);
    expectValues(out.data, ref.data, 'float32', 0, '1M');
    for (const a of [...xs, out, ref]) a.dispose();
  });
});

describe('Prelu', () => {
  for (const xType of DTYPES) {
    for (const aType of DTYPES) {
      it(`x ${xType}, alpha ${aType}: broadcasting, vs reference and tfjs-backend-cpu`, () => {
        const rand = rng(600 + DTYPES.indexOf(xType) * 3 + DTYPES.indexOf(aType));
        for (let trial = 0; trial < 10; trial++) {
          const shape = randomShape(rand, Math.floor(rand() * 5));
          const shrink = (s: number[]) => s.slice(Math.floor(rand() * (s.length + 1))).map((d) => (rand() < 0.3 ? 1 : d));
          const [xShape, aShape] = rand() < 0.5 ? [shape, shrink(shape)] : [shrink(shape), shape];
          const x = array(randomData(rand, sizeOf(xShape), xType), xShape, xType);
          const alpha = array(randomData(rand, sizeOf(aShape), aType), aShape, aType);
          const out = prelu(x, alpha);
          const ref = preluRef(x, alpha);
          const tfjs = runKernel('cpu', 'Prelu', { x: spec(x), alpha: spec(alpha) });
          expect(out.dtype).toBe('float32');
          expect(out.shape).toEqual(tfjs.shape);
          expectValues(out.data, ref.data, 'float32', 0, 'vs reference');
          expectValues(out.data, tfjs.values, 'float32', 0, 'vs tfjs');
          for (const a of [x, alpha, out, ref]) a.dispose();
        }
      });
    }
  }

  it('NaN, -0 and a channel alpha over 1M elements', () => {
    const rand = rng(61);
    const x = array([...FLOAT_SPECIALS, ...randomFloats(rand, (1 << 20) - FLOAT_SPECIALS.length, '')].slice(0, 1 << 20), [1 << 18, 4]);
    const alpha = array([0.1, -2, 0, 0.25], [4]);
    const out = prelu(x, alpha);
    const ref = preluRef(x, alpha);
    expectValues(out.data, ref.data, 'float32', 0, 'vs reference');
    expectValues(out.data, runKernel('cpu', 'Prelu', { x: spec(x), alpha: spec(alpha) }).values, 'float32', 0, 'vs tfjs');
    for (const a of [x, alpha, out, ref]) a.dispose();
  });
});

describe('EluGrad', () => {
  it('vs reference and tfjs-backend-cpu, with NaN and large sizes', () => {
    const rand = rng(700);
    for (const n of [0, 1, 17, FLOAT_SPECIALS.length, 1 << 20]) {
      const y = array(n === FLOAT_SPECIALS.length ? FLOAT_SPECIALS : randomFloats(rand, n, 'Elu').map((v) => Math.max(v, -1)), [n]);
      const dy = array(randomFloats(rand, n, ''), [n]);
      const out = eluGrad(dy, y);
      const ref = eluGradRef(dy, y);
      expectValues(out.data, ref.data, 'float32', 0, 'vs reference');
      expectValues(out.data, runKernel('cpu', 'EluGrad', { dy: spec(dy), y: spec(y) }).values, 'float32', 0, 'vs tfjs');
      for (const a of [y, dy, out, ref]) a.dispose();
    }
  });
});

describe('empty tensors', () => {
  it('Cast, ZerosLike, Select, AddN, Prelu and EluGrad give empty results of the right shape and dtype', () => {
    const f = array([], [2, 0], 'float32');
    const i = array([], [2, 0], 'int32');
    const c = array([], [2, 0], 'bool');
    const alpha = array([0.5], [1]);
    const outs = [cast(f, 'int32'), zerosLike(c), select(c, f, i), addN([i, i]), prelu(f, alpha), eluGrad(f, f)];
    expect(outs.map((o) => o.dtype)).toEqual(['int32', 'bool', 'float32', 'int32', 'float32', 'float32']);
    for (const o of outs) {
      expect(o.shape).toEqual([2, 0]);
      expect(o.data.length).toBe(0);
    }
    for (const a of [f, i, c, alpha, ...outs]) a.dispose();
  });
});

describe('bad arguments', () => {
  it('name the op, the argument and what was expected', () => {
    const f = array([1, 2, 3], [3]);
    const i = array([1, 2, 3], [3], 'int32');
    const b = array([1, 0, 1], [3], 'bool');
    const g = array([1, 2], [2]);
    const b2 = array([1, 0], [2], 'bool');
    expect(() => unary('Step', f)).toThrow('Step: expected a number for alpha but got undefined');
    expect(() => unary('ClipByValue', f, { clipValueMin: 0 })).toThrow('ClipByValue: expected a number for clipValueMax but got undefined');
    expect(() => clipByValue(f, '0' as never, 1)).toThrow('ClipByValue: expected a number for clipValueMin but got string 0');
    expect(() => unary('Foo' as UnaryOp, f)).toThrow('unary: expected a unary op name');
    expect(() => sigmoid([1, 2] as never)).toThrow('Sigmoid: expected a DeviceArray for x but got a plain array');
    expect(() => cast(f, 'complex64' as DType)).toThrow('Cast: expected one of float32, int32, bool for dtype but got "complex64"');
    expect(() => fill([2], 'a' as never)).toThrow('Fill: expected a number or boolean for value but got string a');
    expect(() => fill([2], 1, 'string' as DType)).toThrow('Fill: expected one of float32, int32, bool for dtype but got "string"');
    expect(() => select(f, f, f)).toThrow('Select: expected dtype bool for condition but got float32');
    expect(() => select(b, f, g)).toThrow('Select: expected shape [3] (that of t) for e but got [2]');
    expect(() => select(b2, f, f)).toThrow('Select: expected shape [3] or [3] (t\'s shape or its first dimension) for condition but got [2]');
    expect(() => addN([])).toThrow('AddN: expected a non-empty array of DeviceArrays for inputs but got an empty array');
    expect(() => addN([f, i])).toThrow('AddN: expected dtype float32 (that of inputs[0]) for inputs[1] but got int32');
    expect(() => addN([f, g])).toThrow('AddN: expected shape [3] (that of inputs[0]) for inputs[1] but got [2]');
    expect(() => addN([b])).toThrow('AddN: expected dtype float32 or int32 for inputs[0] but got bool');
    expect(() => prelu(f, g)).toThrow('Prelu: expected shapes that broadcast together for a and b but got [3] and [2]');
    expect(() => eluGrad(i, f)).toThrow('EluGrad: expected dtype float32 for dy but got int32');
    expect(() => eluGrad(f, g)).toThrow('EluGrad: expected shape [3] (that of dy) for y but got [2]');
    g.dispose();
    expect(() => relu(g)).toThrow('Relu: expected a live DeviceArray for x but got one already disposed');
    for (const a of [f, i, b, b2]) a.dispose();
  });

  it('the native bindings check their arguments too', () => {
    const x = native.alloc('float32', 3);
    const short = native.alloc('float32', 2);
    const ints = native.alloc('int32', 3);
    const cond2 = native.alloc('bool', 2);
    const cond3 = native.alloc('bool', 3);
    expect(() => native.unary('Relu', x, short)).toThrow('Relu: expected 3 elements for out but got 2');
    expect(() => native.unary('IsNan', x, x)).toThrow('IsNan: expected dtype bool for out but got float32');
    expect(() => native.unary('LeakyRelu', x, x)).toThrow('LeakyRelu: expected a number for alpha but got undefined');
    expect(() => native.unary('Nope', x, x)).toThrow("unary: unknown op 'Nope'");
    expect(() => native.select(x as never, x, x, x)).toThrow('Select: expected dtype bool for condition but got float32');
    expect(() => native.select(cond2, x, x, x)).toThrow("Select: expected a size dividing t's 3 for condition but got 2");
    expect(() => native.select(cond3, x, ints, ints)).toThrow('Select: expected dtype float32 for out but got int32');
    expect(() => native.addN(x)).toThrow('AddN: expected at least one tensor for inputs but got none');
    expect(() => native.addN(x, ints)).toThrow('AddN: expected dtype float32 for inputs[0] but got int32');
    expect(() => native.prelu(x, [3], short, [2], x)).toThrow('Prelu: shapes [3] and [2] cannot be broadcast together');
    expect(() => native.eluGrad(x, short, x)).toThrow('EluGrad: expected 3 elements for y but got 2');
    for (const a of [x, short, ints, cond2, cond3]) native.release(a);
  });
});

describe('through the tessera-cpu backend', () => {
  const NATIVE = [...UNARY_OPS, 'Cast', 'Fill', 'ZerosLike', 'OnesLike', 'Select', 'AddN', 'Prelu', 'EluGrad'];

  it('registers every kernel of the family as native', () => {
    const native = new Set(kernelCoverage()[0].native);
    expect(NATIVE.filter((op) => !native.has(op))).toEqual([]);
  });

  it('every unary kernel and dtype gives tfjs-backend-cpu\'s results', () => {
    const rand = rng(800);
    for (const op of UNARY_OPS) {
      for (const dtype of DTYPES) {
        const attrs = attrSets(op)[1] ?? attrSets(op)[0];
        const x: TensorSpec = { values: [...randomData(rand, 30, dtype, op), ...(dtype === 'float32' ? FLOAT_SPECIALS : [])], shape: [], dtype };
        x.shape = [x.values.length];
        const ours = runKernel('tessera-cpu', op, { x }, attrs);
        const theirs = runKernel('cpu', op, { x }, attrs);
        expect(ours.dtype, `${op} ${dtype}`).toBe(theirs.dtype);
        expectValues(ours.values, theirs.values, ours.dtype, LIBM.has(op) ? 1 : 0, `${op} ${dtype}`, comparedElements(op, x, attrs, ours.dtype));
      }
    }
  });

  it('Cast always makes a new data id, also when the dtype stays', () => {
    tf.setBackend('tessera-cpu');
    tf.tidy(() => {
      const x = tf.tensor([1, 2, 16777217], [3], 'int32');
      for (const dtype of ['int32', 'float32', 'bool'] as const) {
        const y = tf.cast(x, dtype);
        expect(y.dataId).not.toBe(x.dataId);
        expect(y.dtype).toBe(dtype);
      }
      expect([...tf.cast(x, 'float32').dataSync()]).toEqual([1, 2, 16777216]);
    });
  });

  it('ops, gradients and fallbacks agree with tfjs-backend-cpu', () => {
    const rand = rng(801);
    const xs = randomFloats(rand, 24, 'Elu');
    const alpha = [0.1, 0.2, -0.3, 0.4];
    const cases: [string, (x: tf.Tensor) => tf.Tensor | tf.Tensor[]][] = [
      ['relu', (x) => tf.relu(x)],
      ['grad relu', (x) => tf.grad((v: tf.Tensor) => tf.relu(v))(x)],
      ['grad relu6', (x) => tf.grad((v: tf.Tensor) => tf.relu6(v))(x)],
      ['grad leakyRelu', (x) => tf.grad((v: tf.Tensor) => tf.leakyRelu(v, 0.3))(x)],
      ['grads prelu', (x) => tf.grads((v: tf.Tensor, a: tf.Tensor) => tf.prelu(v, a))([tf.reshape(x, [6, 4]), tf.tensor(alpha)])],
      ['grad sigmoid', (x) => tf.grad((v: tf.Tensor) => tf.sigmoid(v))(x)],
      ['grad softplus', (x) => tf.grad((v: tf.Tensor) => tf.softplus(v))(x)],
      ['grad selu', (x) => tf.grad((v: tf.Tensor) => tf.selu(v))(x)],
      ['grad elu', (x) => tf.grad((v: tf.Tensor) => tf.elu(v))(x)],
      ['grad tanh', (x) => tf.grad((v: tf.Tensor) => tf.tanh(v))(x)],
      ['grad abs', (x) => tf.grad((v: tf.Tensor) => tf.abs(v))(x)],
      ['grad clipByValue', (x) => tf.grad((v: tf.Tensor) => tf.clipByValue(v, -1, 2))(x)],
      ['grad square', (x) => tf.grad((v: tf.Tensor) => tf.square(v))(x)],
      ['grad sqrt', (x) => tf.grad((v: tf.Tensor) => tf.sqrt(tf.abs(v)))(x)],
      ['grads where', (x) => {
        const mask = tf.greater(x, 0);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.where(mask, a, b))([x, tf.neg(x)]);
      }],
      ['addN', (x) => tf.addN([x, tf.exp(x), tf.onesLike(x), tf.zerosLike(x)])],
      ['where broadcast', (x) => tf.where(tf.tensor([true, false, true, false], [4, 1]), tf.reshape(x, [4, 6]), tf.fill([4, 6], 0.5))],
      ['complex64 Cast and OnesLike fallbacks', (x) => {
        const c = tf.complex(x, tf.neg(x));
        return [tf.cast(c, 'float32'), tf.real(tf.onesLike(c)), tf.imag(tf.zerosLike(c))];
      }],
      ['string fill fallback', () => tf.fill([2], 'a') as tf.Tensor],
      ['rank-1 Select fallback', (x) => tf.engine().runKernel('Select', { condition: tf.tensor([true, false, true, false], [4], 'bool'), t: tf.reshape(x, [4, 6]), e: tf.zeros([4, 6]) }) as tf.Tensor],
    ];
    for (const [name, f] of cases) {
      const on = (backend: string) => {
        tf.setBackend(backend);
        const results: { values: ArrayLike<number> | string[]; dtype: string }[] = [];
        tf.tidy(() => {
          const out = f(tf.tensor(xs));
          for (const t of Array.isArray(out) ? out : [out]) results.push({ values: t.dataSync() as ArrayLike<number> | string[], dtype: t.dtype });
        });
        return results;
      };
      const ours = on('tessera-cpu');
      const theirs = on('cpu');
      expect(ours.length).toBe(theirs.length);
      ours.forEach((o, k) => {
        expect(o.dtype, name).toBe(theirs[k].dtype);
        if (o.dtype === 'string') expect([...(o.values as string[])]).toEqual([...(theirs[k].values as string[])]);
        else expectValues(o.values as ArrayLike<number>, theirs[k].values as ArrayLike<number>, o.dtype, 1, name);
      });
    }
  });
});
