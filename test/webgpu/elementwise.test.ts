// tessera-webgpu's elementwise kernels (binary, unary, Cast, Select, AddN, Fill, ZerosLike,
// OnesLike) against tessera-cpu on fresh seeded inputs with NaN, +-Inf, +-0, huge and tiny
// values, every dtype each kernel takes, broadcasting, sizes that are not multiples of 4,
// empty tensors and sizes past one dispatch dimension; plus JS Math tables for the special
// cases. Each kernel is called through the engine by name (as tfjs-core's ops call it), and
// must have dispatched on the GPU and left its output there.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { expectClose, randomShape, rng } from '../helpers.js';
import { describeWebGpu, onCpu, webgpuBackend } from './setup.js';

type DT = 'float32' | 'int32' | 'bool';
type Tol = { abs?: number; rel?: number };

// Tiny values stay normal: GPUs flush subnormal float32s to zero (WGSL allows it), JS keeps them.
const FLOAT_SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 3e38, -3e38, 1e-30, -1e-30, 1.5e-38, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -3, 7];
const INT_SPECIALS = [0, 1, -1, 2, -2, 2147483647, -2147483648, 46340, 46341, 2147395600, 65536, -65536];

/** Seeded values: for float32 a fifth specials, some integers, the rest uniform in [lo, hi]. */
function values(rand: () => number, n: number, dtype: DT, lo = -10, hi = 10, specials = true): number[] {
  return Array.from({ length: n }, () => {
    const u = rand();
    if (dtype === 'bool') return u < 0.5 ? 0 : 1;
    if (dtype === 'int32') {
      if (specials && u < 0.1) return INT_SPECIALS[Math.floor(rand() * INT_SPECIALS.length)];
      return Math.round(lo + (hi - lo) * rand());
    }
    if (specials && u < 0.2) return FLOAT_SPECIALS[Math.floor(rand() * FLOAT_SPECIALS.length)];
    if (u < 0.45) return Math.round(lo + (hi - lo) * rand());
    return lo + (hi - lo) * rand();
  });
}

const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

function runKernel(name: string, inputs: Record<string, tf.Tensor> | tf.Tensor[], attrs: Record<string, unknown> = {}): tf.Tensor {
  return tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor;
}

/**
 * Runs kernel `name` on tessera-cpu and tessera-webgpu on the same inputs and compares; the
 * GPU run must dispatch `dispatches` programs (at least one unless told) and keep its output
 * on the GPU.
 */
async function compare(label: string, name: string, make: () => Record<string, tf.Tensor> | tf.Tensor[], attrs: Record<string, unknown>, tol: Tol = {}, dispatches?: number) {
  const want = await onCpu(() => tf.tidy(() => runKernel(name, make(), attrs)));
  const backend = webgpuBackend();
  const inputs = make();
  const before = backend.device.stats().dispatches;
  const got = runKernel(name, inputs, attrs);
  const ran = backend.device.stats().dispatches - before;
  if (dispatches !== undefined) expect(ran, `${label}: dispatches`).toBe(dispatches);
  else if (sizeOf(got.shape) > 0) expect(ran, `${label} ran on the GPU`).toBeGreaterThanOrEqual(1);
  if (sizeOf(got.shape) > 0 && dispatches !== 0) expect(backend.isOnGpu(got), `${label}: output on the GPU`).toBe(true);
  expect(got.shape, label).toEqual(want.shape);
  expect(got.dtype, label).toBe(want.dtype);
  try {
    expectClose(got.dataSync() as ArrayLike<number>, want.values as ArrayLike<number>, got.dtype as 'float32', tol);
  } catch (e) {
    const xs = Object.values(inputs).map((t) => Array.from((t as tf.Tensor).dataSync() as ArrayLike<number>).slice(0, 64));
    const prev = tf.getBackend(); await tf.setBackend('cpu'); const ref = tf.tidy(() => runKernel(name, make(), attrs)).dataSync(); await tf.setBackend(prev);
    throw new Error(`${label}: ${(e as Error).message}\ninputs: ${JSON.stringify(xs)}\ncpu: ${Array.from(ref as ArrayLike<number>).slice(0, 64)}\ntessera-cpu: ${Array.from(want.values as ArrayLike<number>).slice(0, 64)}\ngpu: ${Array.from(got.dataSync() as ArrayLike<number>).slice(0, 64)}`);
  }
  tf.dispose([...Object.values(inputs), got]);
}

/** Live GPU buffers must be back where they were after each suite. */
function checkGpuLeaks(): void {
  let before = 0;
  beforeAll(() => {
    before = webgpuBackend().device.stats().liveBuffers;
  });
  afterAll(() => {
    expect(webgpuBackend().device.stats().liveBuffers, 'live GPU buffers after the suite').toBe(before);
  });
}

/** Input shapes for a binary op: same shape, scalars either side, broadcasts, size-1 tensors. */
function binaryShapes(rand: () => number): Array<[number[], number[]]> {
  const shapes: Array<[number[], number[]]> = [];
  for (let trial = 0; trial < 7; trial++) {
    const rank = 1 + Math.floor(rand() * 4);
    const shape = randomShape(rand, rank, 7);
    if (trial === 0) shapes.push([shape, shape]);
    else if (trial === 1) shapes.push([shape, []]);
    else if (trial === 2) shapes.push([[], shape]);
    else if (trial === 3) shapes.push([[1, 1], shape]);
    else if (trial === 4) shapes.push([[13], [13]]);
    else shapes.push([shape, shape.map((d) => (rand() < 0.5 ? 1 : d)).slice(Math.floor(rand() * rank))]);
  }
  shapes.push([[3, 1, 5], [1, 4, 1]]);
  // Innermost dims of a multiple of 4 (binary_bcast4.wgsl): rows against rows, against one
  // element per row, and both broadcast.
  shapes.push([[3, 8], [8]], [[5, 4], [5, 1]], [[2, 1, 12], [1, 3, 1]], [[2, 3, 4], [3, 4]], [[1, 4], [3, 1]]);
  return shapes;
}

// ---- binary -------------------------------------------------------------------------------

type BinarySpec = { name: string; dtypes: DT[]; tol?: Tol; lo?: number; hi?: number; bLo?: number; bHi?: number; names?: [string, string] };

const BINARY: BinarySpec[] = [
  { name: 'Add', dtypes: ['float32', 'int32'] },
  { name: 'Sub', dtypes: ['float32', 'int32'] },
  { name: 'Multiply', dtypes: ['float32', 'int32'] },
  { name: 'RealDiv', dtypes: ['float32', 'int32'], tol: { rel: 1e-6 } },
  { name: 'FloorDiv', dtypes: ['float32', 'int32'] },
  { name: 'Mod', dtypes: ['float32', 'int32'], tol: { rel: 1e-6 } },
  { name: 'Pow', dtypes: ['float32'], tol: { rel: 4e-6 }, lo: -4, hi: 4, bLo: -6, bHi: 6 },
  { name: 'Pow', dtypes: ['int32'], lo: -9, hi: 9, bLo: -3, bHi: 12 },
  { name: 'Atan2', dtypes: ['float32'], tol: { rel: 1e-5 } },
  { name: 'Maximum', dtypes: ['float32', 'int32'] },
  { name: 'Minimum', dtypes: ['float32', 'int32'] },
  { name: 'SquaredDifference', dtypes: ['float32', 'int32'] },
  { name: 'BitwiseAnd', dtypes: ['int32'] },
  { name: 'Equal', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'NotEqual', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'Less', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'LessEqual', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'Greater', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'GreaterEqual', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'LogicalAnd', dtypes: ['bool'] },
  { name: 'LogicalOr', dtypes: ['bool'] },
  { name: 'Prelu', dtypes: ['float32'], names: ['x', 'alpha'] },
];

describeWebGpu('tessera-webgpu binary elementwise kernels', () => {
  checkGpuLeaks();

  it('match tessera-cpu on every op and dtype, with broadcasting and special values', async () => {
    const rand = rng(20240611);
    for (const spec of BINARY) {
      const [an, bn] = spec.names ?? ['a', 'b'];
      for (const dtype of spec.dtypes) {
        for (const [aShape, bShape] of binaryShapes(rand)) {
          const av = values(rand, sizeOf(aShape), dtype, spec.lo, spec.hi);
          const bv = values(rand, sizeOf(bShape), dtype, spec.bLo ?? spec.lo, spec.bHi ?? spec.hi);
          const label = `${spec.name} ${dtype} [${aShape}] [${bShape}]`;
          await compare(label, spec.name, () => ({ [an]: tf.tensor(av, aShape, dtype), [bn]: tf.tensor(bv, bShape, dtype) }), {}, spec.tol, 1);
        }
      }
    }
  });

  it('EluGrad matches tessera-cpu', async () => {
    const rand = rng(77);
    for (const shape of [[5], [3, 7], [2, 2, 4], []]) {
      const dy = values(rand, sizeOf(shape), 'float32');
      const y = values(rand, sizeOf(shape), 'float32', -1, 3);
      await compare(`EluGrad [${shape}]`, 'EluGrad', () => ({ dy: tf.tensor(dy, shape), y: tf.tensor(y, shape) }), {}, {}, 1);
    }
  });

  it('follow JS Math on the special cases of Pow, Mod, FloorDiv, Atan2 and RealDiv', () => {
    const S = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 2, -2, 3, -3, 2.5, -8, 1e30, -1e-30];
    const a: number[] = [];
    const b: number[] = [];
    for (const x of S) for (const y of S) { a.push(x); b.push(y); }
    const f = Math.fround;
    const jsMod = (x: number, y: number) => { const r = x % y; return (x < 0 && y < 0) || (x >= 0 && y >= 0) ? r : (r + y) % y; };
    const cases: Array<[string, (x: number, y: number) => number, 'float32' | 'int32', Tol]> = [
      ['Pow', (x, y) => f(Math.pow(x, y)), 'float32', { rel: 4e-6 }],
      ['Mod', (x, y) => f(jsMod(x, y)), 'float32', { rel: 1e-6 }],
      ['FloorDiv', (x, y) => Int32Array.of(Math.floor(x / y))[0], 'int32', {}],
      ['Atan2', (x, y) => f(Math.atan2(x, y)), 'float32', { rel: 1e-6 }],
      ['RealDiv', (x, y) => f(x / y), 'float32', { rel: 1e-6 }],
    ];
    for (const [name, js, dtype, tol] of cases) {
      const x = tf.tensor(a);
      const y = tf.tensor(b);
      const got = runKernel(name, { a: x, b: y });
      expect(got.dtype).toBe(dtype);
      const want = a.map((v, i) => js(f(v), f(b[i])));
      const values = got.dataSync();
      for (let i = 0; i < want.length; i++) {
        try {
          expectClose([values[i]], [want[i]], dtype, tol);
        } catch {
          expect.fail(`${name}(${a[i]}, ${b[i]}) = ${values[i]}, JS gives ${want[i]}`);
        }
      }
      // Signed zeros too, where JS makes them.
      for (let i = 0; i < want.length; i++) {
        if (want[i] === 0 && dtype === 'float32') expect(Object.is(values[i], want[i]), `${name}(${a[i]}, ${b[i]}) sign of zero`).toBe(true);
      }
      tf.dispose([x, y, got]);
    }
  });

  it('int32 division, modulo and powers are exact and wrap as Int32Array stores', () => {
    const check = (name: string, a: number[], b: number[], js: (x: number, y: number) => number) => {
      const x = tf.tensor(a, [a.length], 'int32');
      const y = tf.tensor(b, [b.length], 'int32');
      const got = runKernel(name, { a: x, b: y });
      expect(got.dtype).toBe('int32');
      expect([...got.dataSync()], name).toEqual(a.map((v, i) => Int32Array.of(js(v, b[i]))[0]));
      tf.dispose([x, y, got]);
    };
    const a = [7, -7, 7, -7, 0, 5, -2147483648, -2147483648, 2147483647, 20, -20, 9];
    const b = [2, 2, -2, -2, 3, 0, -1, 1, 2, 5, 5, 3];
    check('FloorDiv', a, b, (x, y) => Math.floor(x / y));
    check('RealDiv', a, b, (x, y) => x / y);
    check('Mod', a, b, (x, y) => { const r = x % y; return (x < 0 && y < 0) || (x >= 0 && y >= 0) ? r : (r + y) % y; });
    check('Pow', [2, 3, -3, 10, 7, 2, 0, -1, 1, 5, 0, -2], [10, 13, 5, 9, 11, 31, -1, -7, -5, -2, 0, 33], (x, y) => Math.pow(x, y));
    // Wrapping below 2^53; from 2^85 on the doubles hold a multiple of 2^32 (stores 0). In
    // between the GPU rounds the exact power, where V8's Math.pow is at times an ulp off.
    const bases = [3, 7, -7, 5, 11, 46341, 12345, 99999, 3, 2147483647, -3, 46341];
    const exps = [33, 18, 17, 22, 15, 3, 3, 3, 60, 3, 59, 2];
    check('Pow', bases, exps, (x, y) => Math.pow(x, y));
    check('Multiply', [2147483647, -2147483648, 123456789, -46341, 99999], [2147483647, -2147483648, 987654321, 46341, -99999], (x, y) => x * y);
    check('SquaredDifference', [2147483647, -2147483648, 123456789], [-2147483648, 2147483647, -987654321], (x, y) => (x - y) * (x - y));
    check('BitwiseAnd', [12, -1, 0x7fffffff, -2147483648], [10, 5, -1, -1], (x, y) => x & y);
  });

  it('FloorDiv of floats is exact where GPU division rounds across an integer, and past 2^24 (to 2^46)', () => {
    const a = [20, 0.3, 1e10, -1e10, 0.7, 6, 1, 16777217, 33, 1e13, -3e13];
    const b = [5, 0.1, 3, 3, 0.1, 0.2, 0.1, 1, 1.1, 7, 0.7];
    const x = tf.tensor(a);
    const y = tf.tensor(b);
    const got = runKernel('FloorDiv', { a: x, b: y });
    const f = Math.fround;
    expect([...got.dataSync()]).toEqual(a.map((v, i) => Int32Array.of(Math.floor(f(v) / f(b[i])))[0]));
    tf.dispose([x, y, got]);
  });

  it('Mod of floats is exact for large quotients, and rounds as tfjs where the signs differ', () => {
    const a = [1e30, -1e30, 3e38, 12345678, 1e-30, 7.5, -7.5, 1e10, -1e-10, 1e-10, -1e-30, 5, -3];
    const b = [3, 7, 1.1, 0.1, 1e-31, -2, 2, -3, 3, -3, 3, -1e30, 3e-30];
    const f = Math.fround;
    const jsMod = (x: number, y: number) => { const r = x % y; return (x < 0 && y < 0) || (x >= 0 && y >= 0) ? r : (r + y) % y; };
    const x = tf.tensor(a);
    const y = tf.tensor(b);
    const got = runKernel('Mod', { a: x, b: y });
    expectClose(got.dataSync(), a.map((v, i) => f(jsMod(f(v), f(b[i])))), 'float32', { rel: 1e-6, abs: 0 });
    tf.dispose([x, y, got]);
  });

  it('empty inputs give empty outputs without a dispatch', () => {
    const backend = webgpuBackend();
    for (const name of ['Add', 'Pow', 'Mod', 'Less']) {
      const a = tf.tensor([], [0, 3]);
      const b = tf.tensor([1, 2, 3], [3]);
      const before = backend.device.stats().dispatches;
      const c = runKernel(name, { a, b });
      expect(c.shape).toEqual([0, 3]);
      expect(c.dataSync().length).toBe(0);
      expect(backend.device.stats().dispatches).toBe(before);
      tf.dispose([a, b, c]);
    }
  });

  it('a broadcast over more than 65535 workgroups (2-D grid) and a large vec4 op', async () => {
    const rand = rng(5);
    const n = 8_400_001; // [n, 2] + [1, 2]: 16.8M elements, 65626 workgroups of 256
    const av = new Float32Array(2 * n);
    for (let i = 0; i < av.length; i++) av[i] = (i % 1000) - 500 + rand();
    const bv = [0.25, -3];
    await compare('Add [n, 2] [1, 2]', 'Add', () => ({ a: tf.tensor(av, [n, 2]), b: tf.tensor(bv, [1, 2]) }), {}, {}, 1);
    const m = 4_000_003;
    const cv = new Float32Array(m).map(() => rand() * 20 - 10);
    await compare('Multiply 4M vec4', 'Multiply', () => ({ a: tf.tensor(cv), b: tf.tensor(cv) }), {}, {}, 1);
  });
});

// ---- unary --------------------------------------------------------------------------------

type UnarySpec = { name: string; dtypes: DT[]; lo?: number; hi?: number; tol?: Tol; attrs?: Record<string, unknown> };

const EXACT: Tol = { rel: 1e-7, abs: 0 };
const ARITH: Tol = { rel: 1e-6 };
const TRANS: Tol = { rel: 4e-6, abs: 1e-6 };

const UNARY: UnarySpec[] = [
  { name: 'Abs', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Neg', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Square', dtypes: ['float32', 'int32'], tol: ARITH },
  { name: 'Sign', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Floor', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Ceil', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Round', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Exp', dtypes: ['float32', 'int32'], lo: -20, hi: 20, tol: TRANS },
  { name: 'Expm1', dtypes: ['float32'], lo: -3, hi: 3, tol: TRANS },
  { name: 'Log', dtypes: ['float32'], lo: -1, hi: 50, tol: TRANS },
  { name: 'Log1p', dtypes: ['float32'], lo: -1.5, hi: 5, tol: TRANS },
  { name: 'Sqrt', dtypes: ['float32', 'int32'], lo: -2, hi: 100, tol: ARITH },
  { name: 'Rsqrt', dtypes: ['float32', 'int32'], lo: -2, hi: 100, tol: ARITH },
  { name: 'Reciprocal', dtypes: ['float32', 'int32'], tol: ARITH },
  { name: 'Sin', dtypes: ['float32'], lo: -20, hi: 20, tol: TRANS },
  { name: 'Cos', dtypes: ['float32'], lo: -20, hi: 20, tol: TRANS },
  { name: 'Tan', dtypes: ['float32'], lo: -20, hi: 20, tol: { rel: 1e-5, abs: 1e-6 } },
  { name: 'Asin', dtypes: ['float32'], lo: -1.2, hi: 1.2, tol: TRANS },
  { name: 'Acos', dtypes: ['float32'], lo: -1.2, hi: 1.2, tol: TRANS },
  { name: 'Atan', dtypes: ['float32'], lo: -20, hi: 20, tol: TRANS },
  { name: 'Sinh', dtypes: ['float32'], lo: -10, hi: 10, tol: TRANS },
  { name: 'Cosh', dtypes: ['float32'], lo: -10, hi: 10, tol: TRANS },
  { name: 'Tanh', dtypes: ['float32', 'int32'], lo: -25, hi: 25, tol: TRANS },
  { name: 'Asinh', dtypes: ['float32'], lo: -20, hi: 20, tol: TRANS },
  { name: 'Acosh', dtypes: ['float32'], lo: 0.5, hi: 20, tol: TRANS },
  { name: 'Atanh', dtypes: ['float32'], lo: -1.2, hi: 1.2, tol: TRANS },
  { name: 'Erf', dtypes: ['float32', 'int32'], lo: -8, hi: 8, tol: TRANS },
  { name: 'Sigmoid', dtypes: ['float32', 'int32'], lo: -40, hi: 40, tol: TRANS },
  { name: 'Softplus', dtypes: ['float32', 'int32'], lo: -20, hi: 20, tol: TRANS },
  { name: 'Relu', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Relu6', dtypes: ['float32', 'int32'], tol: EXACT },
  { name: 'Elu', dtypes: ['float32', 'int32'], tol: TRANS },
  { name: 'Selu', dtypes: ['float32'], tol: TRANS },
  { name: 'LeakyRelu', dtypes: ['float32', 'int32'], tol: ARITH, attrs: { alpha: 0.2 } },
  { name: 'Step', dtypes: ['float32', 'int32'], tol: EXACT, attrs: { alpha: -3.7 } },
  { name: 'ClipByValue', dtypes: ['float32', 'int32'], tol: EXACT, attrs: { clipValueMin: -2.5, clipValueMax: 3.7 } },
  { name: 'IsNan', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'IsInf', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'IsFinite', dtypes: ['float32', 'int32', 'bool'] },
  { name: 'LogicalNot', dtypes: ['bool'] },
];

describeWebGpu('tessera-webgpu unary elementwise kernels', () => {
  checkGpuLeaks();

  it('match tessera-cpu on every op and dtype, with special values and odd sizes', async () => {
    const rand = rng(31337);
    for (const spec of UNARY) {
      for (const dtype of spec.dtypes) {
        for (const shape of [[1], [7], [4, 5], [2, 3, 3], []]) {
          const xv = values(rand, sizeOf(shape), dtype, spec.lo, spec.hi);
          const label = `${spec.name} ${dtype} [${shape}]`;
          await compare(label, spec.name, () => ({ x: tf.tensor(xv, shape, dtype) }), spec.attrs ?? {}, spec.tol, 1);
        }
        // Every special value at once.
        const specials = dtype === 'float32' ? FLOAT_SPECIALS : dtype === 'int32' ? INT_SPECIALS : [0, 1, 1, 0, 1];
        await compare(`${spec.name} ${dtype} specials`, spec.name, () => ({ x: tf.tensor(specials, [specials.length], dtype) }), spec.attrs ?? {}, spec.tol, 1);
      }
    }
  });

  it('ClipByValue and Step take int32 bounds as Int32Array stores them', async () => {
    const xs = [-2147483648, -5, -3, -2, 0, 2, 3, 4, 2147483647];
    const bounds: Array<[number, number]> = [[-2.5, 3.7], [-3, 3], [-1e10, 1e10], [NaN, 2], [-2, NaN], [-Infinity, Infinity], [5, 5], [2147483647.5, 3e9]];
    for (const [lo, hi] of bounds) {
      await compare(`ClipByValue int32 [${lo}, ${hi}]`, 'ClipByValue', () => ({ x: tf.tensor(xs, [xs.length], 'int32') }), { clipValueMin: lo, clipValueMax: hi }, EXACT, 1);
    }
    for (const alpha of [0, 0.5, -3.7, 1e10, NaN]) {
      await compare(`Step int32 alpha ${alpha}`, 'Step', () => ({ x: tf.tensor(xs, [xs.length], 'int32') }), { alpha }, EXACT, 1);
      await compare(`Step float32 alpha ${alpha}`, 'Step', () => ({ x: tf.tensor(FLOAT_SPECIALS) }), { alpha }, EXACT, 1);
    }
  });

  it('follow JS Math on special values', () => {
    const f = Math.fround;
    const erf = (x: number) => {
      const u = tf.backend_util;
      const t = 1 / (1 + u.ERF_P * Math.abs(x));
      return Math.sign(x) * (1 - (((((u.ERF_A5 * t + u.ERF_A4) * t) + u.ERF_A3) * t + u.ERF_A2) * t + u.ERF_A1) * t * Math.exp(-x * x));
    };
    const js: Record<string, (x: number) => number> = {
      Abs: Math.abs, Exp: Math.exp, Expm1: Math.expm1, Log: Math.log, Log1p: Math.log1p, Sqrt: Math.sqrt, Rsqrt: (x) => 1 / Math.sqrt(x),
      Reciprocal: (x) => 1 / x, Sin: Math.sin, Cos: Math.cos, Tan: Math.tan, Asin: Math.asin, Acos: Math.acos, Atan: Math.atan,
      Sinh: Math.sinh, Cosh: Math.cosh, Tanh: Math.tanh, Asinh: Math.asinh, Acosh: Math.acosh, Atanh: Math.atanh, Erf: erf,
      Sigmoid: (x) => 1 / (1 + Math.exp(-x)), Relu: (x) => Math.max(0, x), Relu6: (x) => Math.min(Math.max(0, x), 6),
      Floor: Math.floor, Ceil: Math.ceil, Sign: (x) => (x < 0 ? -1 : x > 0 ? 1 : 0),
      Round: (x) => { const b = Math.floor(x); return x - b < 0.5 ? b : x - b > 0.5 ? Math.ceil(x) : b % 2 === 0 ? b : b + 1; },
      Elu: (x) => (x >= 0 ? x : Math.exp(x) - 1),
    };
    const xs = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, -2, 0.5, -0.5, 1.5, 2.5, -2.5, 1e-7, -1e-7, 1e30, -1e30, 88.7, 89.5, -100, 100, 1.5e-38, 1e5, -3e7, 1e20, 3e38];
    for (const [name, fn] of Object.entries(js)) {
      const x = tf.tensor(xs);
      const y = runKernel(name, { x });
      const got = y.dataSync();
      y.dispose();
      for (let i = 0; i < xs.length; i++) {
        const want = f(fn(f(xs[i])));
        try {
          expectClose([got[i]], [want], 'float32', { rel: 4e-6, abs: 1e-7 });
        } catch {
          expect.fail(`${name}(${xs[i]}) = ${got[i]}, JS gives ${want}`);
        }
      }
      x.dispose();
    }
  });

  it('Sin, Cos and Tan reduce large arguments exactly and stay within an ulp near the poles of tan', () => {
    const f = Math.fround;
    const poles = [1, 3, 7, 1001, 20001, 1e6 + 1].map((k) => f((k * Math.PI) / 2));
    const xs = [...poles, ...poles.map((v) => -v), -608065414.8781943, 781902002.7943993, -470910673.97399473, 1786759246.171617, 1e20, -3e38, 8192.5, 0.7853982, 0.78539813, 2.356194];
    const x = tf.tensor(xs);
    for (const [name, fn, rel] of [['Tan', Math.tan, 1.2e-7], ['Sin', Math.sin, 2e-7], ['Cos', Math.cos, 2e-7]] as Array<[string, (v: number) => number, number]>) {
      const got = tf.tidy(() => runKernel(name, { x }).dataSync());
      for (let i = 0; i < xs.length; i++) {
        const want = f(fn(f(xs[i])));
        if (!(Math.abs(got[i] - want) <= Math.abs(want) * rel + 1e-7)) expect.fail(`${name}(${f(xs[i])}) = ${got[i]}, JS gives ${want}`);
      }
    }
    x.dispose();
  });

  it('Tanh, Sigmoid and Softplus stay finite and exact at large |x|', () => {
    const xs = [-1e30, -100, -20, -9, 9, 20, 100, 1e30, 88, -88];
    const x = tf.tensor(xs);
    const run = (name: string) => tf.tidy(() => runKernel(name, { x }).dataSync());
    expectClose(run('Tanh'), xs.map((v) => Math.tanh(v)), 'float32');
    expectClose(run('Sigmoid'), xs.map((v) => 1 / (1 + Math.exp(-v))), 'float32');
    expectClose(run('Softplus'), xs.map((v) => (v > 13.94 ? v : Math.log1p(Math.exp(v)))), 'float32');
    x.dispose();
  });

  it('empty inputs give empty outputs without a dispatch, and a large input runs in one dispatch', async () => {
    const backend = webgpuBackend();
    const x = tf.tensor([], [2, 0]);
    const before = backend.device.stats().dispatches;
    const y = runKernel('Exp', { x });
    expect(y.shape).toEqual([2, 0]);
    expect(y.dataSync().length).toBe(0);
    expect(backend.device.stats().dispatches).toBe(before);
    tf.dispose([x, y]);
    const rand = rng(9);
    const big = new Float32Array(4_000_001).map(() => rand() * 16 - 8);
    await compare('Sigmoid 4M', 'Sigmoid', () => ({ x: tf.tensor(big) }), {}, TRANS, 1);
  });
});

// ---- Cast, Select, AddN, Fill ------------------------------------------------------------

describeWebGpu('tessera-webgpu Cast, Select, AddN, Fill, ZerosLike, OnesLike', () => {
  checkGpuLeaks();

  it('Cast matches tessera-cpu between every numeric dtype (truncation, wrapping, NaN)', async () => {
    const rand = rng(11);
    const floats = [...FLOAT_SPECIALS, 2147483647.5, 2147483648, 4294967296 + 5 * 256, -2147483904, 3e9, -3e9, 1e10, -0.9, 0.9, -1.5, 123456.789];
    const sources: Record<DT, number[]> = {
      float32: [...floats, ...values(rand, 13, 'float32')],
      int32: [...INT_SPECIALS, ...values(rand, 9, 'int32')],
      bool: values(rand, 11, 'bool'),
    };
    for (const from of ['float32', 'int32', 'bool'] as DT[]) {
      for (const to of ['float32', 'int32', 'bool'] as DT[]) {
        const xv = sources[from];
        await compare(`Cast ${from} -> ${to}`, 'Cast', () => ({ x: tf.tensor(xv, [xv.length], from) }), { dtype: to }, EXACT, from === to ? 0 : 1);
      }
    }
  });

  it('Cast to the same dtype shares the storage', () => {
    const x = tf.tidy(() => tf.add(tf.tensor([1.5, 2]), tf.scalar(1)));
    const y = runKernel('Cast', { x }, { dtype: 'float32' });
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect([...y.dataSync()]).toEqual([2.5, 3]);
    y.dispose();
  });

  it('Select matches tessera-cpu elementwise and over rows, every dtype', async () => {
    const rand = rng(12);
    for (const dtype of ['float32', 'int32', 'bool'] as DT[]) {
      for (const [cShape, shape] of [[[7], [7]], [[3, 5], [3, 5]], [[], []], [[4], [4, 3]], [[3], [3, 4]], [[5], [5, 1]], [[2], [2, 3, 2]], [[0], [0, 3]]] as Array<[number[], number[]]>) {
        const cv = values(rand, sizeOf(cShape), 'bool');
        const tv = values(rand, sizeOf(shape), dtype);
        const ev = values(rand, sizeOf(shape), dtype);
        await compare(`Select ${dtype} [${cShape}] [${shape}]`, 'Select',
          () => ({ condition: tf.tensor(cv, cShape, 'bool'), t: tf.tensor(tv, shape, dtype), e: tf.tensor(ev, shape, dtype) }), {}, EXACT,
          sizeOf(shape) > 0 ? 1 : 0);
      }
    }
  });

  it('AddN matches tessera-cpu for 1 to 20 inputs (several passes past 7)', async () => {
    const rand = rng(13);
    for (const dtype of ['float32', 'int32'] as DT[]) {
      for (const n of [1, 2, 3, 7, 8, 13, 20]) {
        const shape = [3, 5];
        const xs = Array.from({ length: n }, () => values(rand, 15, dtype));
        const passes = n <= 7 ? 1 : 1 + Math.ceil((n - 7) / 6);
        await compare(`AddN ${dtype} x${n}`, 'AddN', () => xs.map((v) => tf.tensor(v, shape, dtype)), {}, { rel: 1e-6 }, passes);
      }
    }
  });

  it('Fill, ZerosLike and OnesLike match tessera-cpu', async () => {
    const fills: Array<[unknown, DT | undefined]> = [[3.7, 'float32'], [NaN, 'float32'], [-Infinity, undefined], [3.7, 'int32'], [-2147483649, 'int32'], [1e10, 'int32'], [true, 'bool'], [0, 'bool'], [1, undefined]];
    for (const [value, dtype] of fills) {
      for (const shape of [[5], [2, 3], [], [0, 2]]) {
        await compare(`Fill ${value} ${dtype} [${shape}]`, 'Fill', () => ({}), { shape, value, dtype }, EXACT, sizeOf(shape) > 0 ? 1 : 0);
      }
    }
    for (const dtype of ['float32', 'int32', 'bool'] as DT[]) {
      for (const name of ['ZerosLike', 'OnesLike']) {
        const xv = values(rng(1), 7, dtype);
        await compare(`${name} ${dtype}`, name, () => ({ x: tf.tensor(xv, [7], dtype) }), {}, EXACT, 1);
      }
    }
  });

  it('a vec4 kernel past 65535 workgroups (2-D grid)', () => {
    const backend = webgpuBackend();
    const n = 4 * 256 * 65536 + 7; // 16.8M vec4s
    if (n * 4 > backend.device.limits.maxStorageBufferBindingSize) {
      console.log(`skipping the vec4 2-D grid test: ${n * 4} bytes exceed this adapter's storage buffer limit`);
      return;
    }
    const before = backend.device.stats().dispatches;
    const x = runKernel('Fill', {}, { shape: [n], value: 2.5, dtype: 'float32' });
    const y = runKernel('Neg', { x });
    expect(backend.device.stats().dispatches - before).toBe(2);
    const v = y.dataSync();
    expect(v.length).toBe(n);
    let bad = -1;
    for (let i = 0; i < n; i++) if (v[i] !== -2.5) { bad = i; break; }
    expect(bad, 'first wrong element').toBe(-1);
    tf.dispose([x, y]);
  });
});
