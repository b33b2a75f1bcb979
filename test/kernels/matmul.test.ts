import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, describe, expect, it } from 'vitest';

import '../../src/index.js';
import { ACTIVATIONS, array, matMul, matMulRef, type Activation, type DeviceArray, type MatMulOptions } from '../../src/kernels/index.js';
import { native } from '../../src/native.js';
import { checkLeaks, expectClose, rng } from '../helpers.js';

checkLeaks();

type Isa = 'generic' | 'avx2' | 'avx512';
const ISA_ORDER: Isa[] = ['generic', 'avx2', 'avx512'];
const ACTIVE_ISA = native.buildInfo().isa;
// Every kernel set this CPU runs: the lower ones are reachable only through sgemm's isa
// argument, since the ISA is detected once per process.
const ISAS = ISA_ORDER.slice(0, ISA_ORDER.indexOf(ACTIVE_ISA) + 1);

function randomArray(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

// Float accumulation against the double-accumulated reference: the error grows with k.
const tolFor = (k: number) => ({ abs: 2e-6 * Math.max(k, 1), rel: 1e-5 });

interface SgemmCase {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  pad?: number;  // extra leading-dimension columns, which must stay untouched in C
  accumulate?: boolean;
  bias?: 'column' | 'element';
  activation?: Activation;
  prelu?: 'column' | 'element';
  leakyAlpha?: number;
}

/** Runs the engine on `isa` and SgemmRef on the same operands; returns both C buffers. */
function runSgemm(isa: Isa | 'auto', c: SgemmCase, rand: () => number, fill?: (a: Float32Array, b: Float32Array) => void) {
  const { transA, transB, m, n, k, pad = 0 } = c;
  const lda = (transA ? m : k) + pad;
  const ldb = (transB ? k : n) + pad;
  const ldc = n + pad;
  const a = randomArray(rand, (transA ? k : m) * lda);
  const b = randomArray(rand, (transB ? n : k) * ldb);
  fill?.(a, b);
  const c0 = randomArray(rand, m * ldc, -4, 4);
  const bias = c.bias ? randomArray(rand, c.bias === 'element' ? m * n : n, -2, 2) : null;
  const prelu = c.prelu ? randomArray(rand, c.prelu === 'element' ? m * n : n) : null;
  const args = (out: Float32Array) => [transA, transB, m, n, k, a, Math.max(lda, 1), b, Math.max(ldb, 1), out, Math.max(ldc, 1),
    c.accumulate ?? false, bias, c.bias === 'element', c.activation ?? 'linear', c.leakyAlpha ?? 0.2, prelu, c.prelu === 'element'] as const;
  const out = c0.slice();
  const ref = c0.slice();
  native.sgemm(isa, ...args(out));
  native.sgemm('ref', ...args(ref));
  return { out, ref, c0, ldc };
}

function checkSgemm(isa: Isa | 'auto', c: SgemmCase, seed: number, fill?: (a: Float32Array, b: Float32Array) => void): void {
  const { out, ref, c0, ldc } = runSgemm(isa, c, rng(seed), fill);
  for (let i = 0; i < c.m; i++) {
    expectClose(out.subarray(i * ldc, i * ldc + c.n), ref.subarray(i * ldc, i * ldc + c.n), 'float32', tolFor(c.k));
    // Past column n the rows of C belong to someone else.
    expect(out.subarray(i * ldc + c.n, (i + 1) * ldc)).toEqual(c0.subarray(i * ldc + c.n, (i + 1) * ldc));
  }
}

const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]] as const;

describe('sgemm engine on every ISA against SgemmRef', () => {
  // Shapes chosen to reach every path: the unpacked small loops (<= 8^3), gemv (m or n = 1,
  // threaded from 1M multiply-adds), B read in place (m <= mr), packed edge tiles in m and n,
  // several depth slices (k > 256), threads (>= 224^3), and with few rows the column split,
  // also with B read in place.
  const SHAPES: [number, number, number][] = [
    [1, 1, 1], [1, 7, 3], [5, 1, 9], [3, 4, 5], [13, 17, 19], [31, 33, 35], [1, 300, 200], [250, 1, 300],
    [1, 1100, 1000], [1200, 1, 900], [7, 100, 120], [12, 64, 64], [33, 47, 29], [64, 64, 64], [65, 97, 513],
    [100, 37, 260], [8, 1000, 700], [130, 131, 132], [200, 300, 100], [20, 1200, 600], [12, 2000, 600],
  ];
  for (const isa of ISAS) {
    it(`${isa}: all transposes, odd sizes, padded leading dimensions`, () => {
      let seed = 1;
      for (const [m, n, k] of SHAPES) {
        for (const [transA, transB] of TRANSPOSES) {
          checkSgemm(isa, { transA, transB, m, n, k, pad: seed % 3 === 0 ? 5 : 0 }, seed++);
        }
      }
    });

    it(`${isa}: accumulate into C`, () => {
      let seed = 100;
      for (const [m, n, k] of [[3, 5, 7], [40, 50, 60], [1, 80, 90], [90, 1, 80], [120, 140, 300]] as const) {
        for (const [transA, transB] of TRANSPOSES) checkSgemm(isa, { transA, transB, m, n, k, accumulate: true, pad: 3 }, seed++);
      }
    });

    it(`${isa}: fused epilogue, every activation, bias and prelu per column and per element`, () => {
      let seed = 200;
      for (const activation of ACTIVATIONS) {
        for (const [m, n, k] of [[4, 6, 5], [1, 70, 40], [70, 1, 40], [37, 45, 50], [130, 70, 300]] as const) {
          const layout = seed % 2 === 0 ? 'column' : 'element';
          checkSgemm(isa, {
            transA: seed % 3 === 0, transB: seed % 4 === 1, m, n, k, pad: 2, accumulate: seed % 5 === 0,
            bias: layout, activation, prelu: activation === 'prelu' ? (seed % 3 === 0 ? 'column' : 'element') : undefined,
            leakyAlpha: 0.37,
          }, seed++);
        }
      }
    });

    it(`${isa}: elu and sigmoid equal the scalar double-precision exp bit for bit`, () => {
      // With k = 0 the product is 0 and the per-element bias is the activation's input.
      const special = [NaN, Infinity, -Infinity, 0, -0, 88.7, 88.8, -87.3, -103.9, -104, -745, -746, 709.8, 710, 1e-8,
        -1e-8, 1e-30, -1e-30, 3e38, -3e38, 1.4e-45, -1.4e-45, 0.5, -0.5, 17, -17];
      const rand = rng(321);
      const n = 40000;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = i < special.length ? special[i] : (rand() - 0.5) * [200, 2, 1e-3][i % 3];
      for (const activation of ['elu', 'sigmoid']) {
        const run = (which: Isa | 'ref') => {
          const out = new Float32Array(n);
          native.sgemm(which, false, false, 1, n, 0, new Float32Array(1), 1, new Float32Array(n), n, out, n, false, x, true, activation, 0.2, null, false);
          return out;
        };
        expectClose(run(isa), run('ref'), 'float32', { abs: 0, rel: 0 });
      }
    });

    it(`${isa}: a column bias with relu, relu6 or nothing keeps NaN, Inf and signed zeros as the reference does`, () => {
      // Rows of zeros (k = 0) plus a bias row: the activation sees the bias values themselves,
      // in every lane position and column-count remainder of the vector epilogue.
      const special = [NaN, Infinity, -Infinity, 0, -0, 6, 6.000001, 5.999999, -6, 1e-30, -1e-30, 3e38, -3e38, 1.4e-45, -1.4e-45, 0.5, -0.5];
      const rand = rng(77);
      for (const n of [1, 15, 16, 17, 33, 100]) {
        const bias = new Float32Array(n);
        for (let i = 0; i < n; i++) bias[i] = rand() < 0.5 ? special[i % special.length] : (rand() - 0.5) * 20;
        for (const activation of ['linear', 'relu', 'relu6']) {
          const run = (which: Isa | 'ref') => {
            const out = new Float32Array(3 * n);
            native.sgemm(which, false, false, 3, n, 0, new Float32Array(3), 1, new Float32Array(n), n, out, n, false, bias, false, activation, 0.2, null, false);
            return out;
          };
          const got = run(isa), want = run('ref');
          expectClose(got, want, 'float32', { abs: 0, rel: 0 });
          for (let i = 0; i < got.length; i++) expect(Object.is(got[i], want[i])).toBe(true);
        }
      }
    });

    it(`${isa}: empty dimensions and k = 0`, () => {
      for (const [m, n, k] of [[0, 5, 3], [4, 0, 3], [0, 0, 0], [4, 5, 0], [1, 5, 0], [40, 50, 0]] as const) {
        checkSgemm(isa, { transA: false, transB: false, m, n, k, pad: 1 }, 7);
        checkSgemm(isa, { transA: true, transB: true, m, n, k, pad: 1, accumulate: true }, 8);
        checkSgemm(isa, { transA: false, transB: true, m, n, k, bias: 'column', activation: 'sigmoid' }, 9);
      }
    });

    it(`${isa}: NaN and Inf propagate to exactly their rows and columns`, () => {
      for (const [m, n, k] of [[13, 35, 17], [3, 3, 3], [1, 40, 30], [40, 1, 30], [100, 90, 270]] as const) {
        for (const [transA, transB] of TRANSPOSES) {
          // A NaN in row 1 of op(A), an Inf in column 2 of op(B): padded tiles (zeros) must not
          // turn into NaN anywhere that is stored.
          checkSgemm(isa, { transA, transB, m, n, k, pad: 1 }, 11, (a, b) => {
            const lda = (transA ? m : k) + 1;
            const ldb = (transB ? k : n) + 1;
            if (m > 1) a[transA ? 0 * lda + 1 : 1 * lda + 0] = NaN;
            if (n > 2) b[transB ? 2 * ldb + 0 : 0 * ldb + 2] = Infinity;
            if (n > 3) b[transB ? 3 * ldb + 1 : 1 * ldb + 3] = -Infinity;
          });
        }
      }
    });
  }

  it('the large size splits across threads and matches the reference', () => {
    checkSgemm('auto', { transA: false, transB: false, m: 512, n: 700, k: 300, bias: 'column', activation: 'relu' }, 31);
    checkSgemm('auto', { transA: true, transB: true, m: 300, n: 520, k: 700, pad: 3 }, 32);
  });

  it('results do not depend on the thread count (every element is summed in the same order)', () => {
    const before = native.numThreads();
    const results: Float32Array[] = [];
    try {
      for (const threads of [1, 2, 3]) {
        native.setNumThreads(threads);
        results.push(runSgemm('auto', { transA: false, transB: true, m: 257, n: 190, k: 333, bias: 'column', activation: 'elu' }, rng(5)).out);
      }
    } finally {
      native.setNumThreads(before);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('TESSERA_ISA caps the kernels Sgemm dispatches to (checked in a child process: the ISA is detected once)', () => {
    const addon = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'Release', 'tessera.node');
    const script = `
      const native = require(${JSON.stringify(addon)});
      let s = 7;
      const fill = (n) => Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) >>> 0; return s / 4294967296 - 0.5; });
      const [m, n, k] = [70, 90, 300];
      const a = fill(m * k), b = fill(k * n), bias = fill(n);
      const run = (isa) => { const c = new Float32Array(m * n); native.sgemm(isa, false, true, m, n, k, a, k, b, k, c, n, false, bias, false, 'elu', 0.2, null, false); return c; };
      const out = run('auto'), ref = run('ref');
      let err = 0;
      for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref[i]));
      console.log(JSON.stringify({ isa: native.buildInfo().isa, err }));`;
    for (const isa of ISAS) {
      const stdout = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TESSERA_ISA: isa }, encoding: 'utf8' });
      const result = JSON.parse(stdout) as { isa: string; err: number };
      expect(result.isa).toBe(isa);
      expect(result.err).toBeLessThan(1e-4);
    }
  });

  it('rejects an ISA the CPU does not run and bad leading dimensions', () => {
    const a = new Float32Array(6);
    const args = (isa: string, lda: number) => [isa, false, false, 2, 2, 3, a, lda, a, 2, a, 2, false, null, false, 'linear', 0.2, null, false] as const;
    if (ACTIVE_ISA !== 'avx512') expect(() => native.sgemm(...(args('avx512', 3) as never as Parameters<typeof native.sgemm>))).toThrow('sgemm: expected an ISA this CPU runs');
    expect(() => native.sgemm(...(args('auto', 2) as never as Parameters<typeof native.sgemm>))).toThrow('sgemm: expected at least 3 for lda but got 2');
    expect(() => native.sgemm(...(args('avx9', 3) as never as Parameters<typeof native.sgemm>))).toThrow("sgemm: expected generic, avx2, avx512, auto or ref for isa but got 'avx9'");
  });
});

describe('gemm lab variants', () => {
  const variants = native.gemmLabVariants();

  it('lists the stages in order', () => {
    expect(variants.map((v) => v.name)).toEqual([
      'naive', 'blocked', 'packed-generic', 'packed-avx2', 'packed-avx512', 'packed-avx512-14x32', 'packed-avx512-8x48', 'engine',
    ]);
    expect(variants[0].available && variants[2].available && variants[7].available).toBe(true);
  });

  it('every available variant matches SgemmRef, the packed ones on every size (no shortcuts)', () => {
    const rand = rng(77);
    for (const [m, n, k] of [[1, 1, 1], [5, 3, 2], [13, 33, 7], [29, 50, 300], [100, 101, 102]] as const) {
      for (const [transA, transB] of TRANSPOSES) {
        const a = randomArray(rand, m * k);
        const b = randomArray(rand, k * n);
        const ref = new Float32Array(m * n);
        native.sgemm('ref', transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, ref, n, false, null, false, 'linear', 0, null, false);
        variants.forEach((v, i) => {
          if (!v.available) return;
          const c = new Float32Array(m * n).fill(NaN);
          native.gemmLab(i, transA, transB, m, n, k, a, b, c, 0, 0, 0);
          expectClose(c, ref, 'float32', tolFor(k));
        });
        // Odd blockings: slices and blocks smaller than a tile, several column blocks.
        const c = new Float32Array(m * n).fill(NaN);
        native.gemmLab(ACTIVE_ISA === 'generic' ? 2 : ACTIVE_ISA === 'avx2' ? 3 : 4, transA, transB, m, n, k, a, b, c, 5, 7, 40);
        expectClose(c, ref, 'float32', tolFor(k));
      }
    }
  });

  it('rejects an unknown variant', () => {
    const a = new Float32Array(1);
    expect(() => native.gemmLab(99, false, false, 1, 1, 1, a, a, a, 0, 0, 0)).toThrow('gemmLab: expected one of the available variants 0..7 for variant but got 99');
  });
});

// ---- the batched kernel: direct API, reference and tfjs-backend-cpu ----

function values(x: DeviceArray): number[] {
  return Array.from(x.data as ArrayLike<number>);
}

/**
 * tfjs-backend-cpu's answer, composed from unfused ops. The batch dimensions are broadcast
 * explicitly first: tfjs's own kernel indexes batches by modulo, which is numpy broadcasting
 * only for some shapes.
 */
function tfjsCpu(a: DeviceArray, b: DeviceArray, o: MatMulOptions): Float32Array | Int32Array {
  tf.setBackend('cpu');
  return tf.tidy(() => {
    const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const ta = tf.broadcastTo(tf.tensor(values(a), [...a.shape], a.dtype as 'float32'), [...batch, ...a.shape.slice(-2)]);
    const tb = tf.broadcastTo(tf.tensor(values(b), [...b.shape], b.dtype as 'float32'), [...batch, ...b.shape.slice(-2)]);
    let y = tf.matMul(ta, tb, o.transposeA, o.transposeB);
    if (o.bias) y = tf.add(y, tf.tensor(values(o.bias), [...o.bias.shape]));
    switch (o.activation ?? 'linear') {
      case 'relu': y = tf.relu(y); break;
      case 'relu6': y = tf.relu6(y); break;
      case 'leakyrelu': y = tf.leakyRelu(y, o.leakyreluAlpha ?? 0.2); break;
      case 'prelu': y = tf.prelu(y, tf.tensor(values(o.preluActivationWeights!), [...o.preluActivationWeights!.shape])); break;
      case 'elu': y = tf.elu(y); break;
      case 'sigmoid': y = tf.sigmoid(y); break;
      default: break;
    }
    return y.dataSync() as Float32Array | Int32Array;
  });
}

function randomDevice(rand: () => number, shape: number[], dtype: 'float32' | 'int32' = 'float32'): DeviceArray {
  const n = shape.reduce((x, y) => x * y, 1);
  const v = Array.from({ length: n }, () => (dtype === 'int32' ? Math.round(-20 + 40 * rand()) : -1 + 2 * rand()));
  return array(v, shape, dtype);
}

function checkMatMul(a: DeviceArray, b: DeviceArray, o: MatMulOptions, k: number): void {
  const out = matMul(a, b, o);
  const ref = matMulRef(a, b, o);
  expect(out.shape).toEqual(ref.shape);
  const tol = a.dtype === 'int32' ? {} : tolFor(k);
  expectClose(out.data, ref.data, out.dtype, tol);
  expectClose(out.data, tfjsCpu(a, b, o), out.dtype, a.dtype === 'int32' ? {} : { abs: 2e-6 * Math.max(k, 1), rel: 1e-5 });
  out.dispose();
  ref.dispose();
}

describe('matMul (direct API)', () => {
  it('random shapes, every transpose, batch broadcasting', () => {
    const rand = rng(4242);
    const batches: [number[], number[]][] = [
      [[], []], [[3], [3]], [[3], []], [[], [4]], [[2, 3], [3]], [[2, 1], [1, 3]], [[1, 2], [4, 1]], [[2, 3], [2, 3]], [[5], [1]],
    ];
    for (const [batchA, batchB] of batches) {
      for (const [transposeA, transposeB] of TRANSPOSES) {
        const m = 1 + Math.floor(rand() * 40);
        const n = 1 + Math.floor(rand() * 40);
        const k = 1 + Math.floor(rand() * 40);
        const a = randomDevice(rand, [...batchA, ...(transposeA ? [k, m] : [m, k])]);
        const b = randomDevice(rand, [...batchB, ...(transposeB ? [n, k] : [k, n])]);
        checkMatMul(a, b, { transposeA, transposeB }, k);
        a.dispose();
        b.dispose();
      }
    }
  });

  it('every activation with bias and prelu weights of many broadcast shapes', () => {
    const rand = rng(99);
    const [m, n, k] = [9, 21, 33];
    const epilogueShapes = [[n], [1, n], [], [1], [m, n], [m, 1], [2, 1, n], [2, m, n], [2, m, 1], [1, 1, 1]];
    for (const activation of ACTIVATIONS) {
      for (const shape of epilogueShapes) {
        const a = randomDevice(rand, [2, m, k]);
        const b = randomDevice(rand, [k, n]);
        const bias = randomDevice(rand, shape);
        const prelu = activation === 'prelu' ? randomDevice(rand, epilogueShapes[(shape.length * 3) % epilogueShapes.length]) : undefined;
        checkMatMul(a, b, { bias, activation, preluActivationWeights: prelu, leakyreluAlpha: 0.13 }, k);
        for (const x of [a, b, bias, prelu]) x?.dispose();
      }
    }
  });

  it('a shared B folds the batch into one product; bias per batch does not', () => {
    const rand = rng(5);
    const a = randomDevice(rand, [4, 30, 50]);
    const b = randomDevice(rand, [50, 40]);
    const perColumn = randomDevice(rand, [40]);
    const perBatch = randomDevice(rand, [4, 1, 40]);
    const perElement = randomDevice(rand, [4, 30, 40]);
    for (const bias of [undefined, perColumn, perBatch, perElement]) {
      checkMatMul(a, b, { bias, activation: 'relu6' }, 50);
      checkMatMul(a, b, { bias, transposeB: false, activation: 'elu' }, 50);
    }
    for (const x of [a, b, perColumn, perBatch, perElement]) x.dispose();
  });

  it('batches large enough to thread: across products, and folded into one product', () => {
    const rand = rng(17);
    const cases: [number[], number[], MatMulOptions][] = [
      [[16, 64, 96], [16, 96, 80], { activation: 'relu' }],
      [[2, 8, 30, 40], [8, 40, 20], { transposeB: false }],
      [[6, 100, 200], [200, 150], { activation: 'sigmoid' }],
    ];
    for (const [as, bs, o] of cases) {
      const a = randomDevice(rand, as);
      const b = randomDevice(rand, bs);
      const bias = randomDevice(rand, [bs[bs.length - 1]]);
      checkMatMul(a, b, { ...o, bias }, as[as.length - 1]);
      for (const x of [a, b, bias]) x.dispose();
    }
    const ai = randomDevice(rand, [4, 200, 150], 'int32');
    const bi = randomDevice(rand, [150, 190], 'int32');
    checkMatMul(ai, bi, {}, 150);
    ai.dispose();
    bi.dispose();
  });

  it('int32 products are exact and wrap like Int32Array stores', () => {
    const rand = rng(8);
    for (const [transposeA, transposeB] of TRANSPOSES) {
      const a = randomDevice(rand, [3, 7, 11], 'int32');
      const b = randomDevice(rand, [3, 11, 5], 'int32');
      const at = transposeA ? randomDevice(rand, [3, 11, 7], 'int32') : a;
      const bt = transposeB ? randomDevice(rand, [3, 5, 11], 'int32') : b;
      checkMatMul(at, bt, { transposeA, transposeB }, 11);
      for (const x of new Set([a, b, at, bt])) x.dispose();
    }
    const big = array([196608, 65536, 46341, 46341], [2, 2], 'int32');
    const eye = array([65536, 0, 0, 46341], [2, 2], 'int32');
    const out = matMul(big, eye);
    // 196608 * 65536 = 3 * 2^32 wraps to 0, 65536 * 46341 = 3037003776 to -1257963520 and
    // 46341^2 = 2147488281 to -2147479015.
    expect(values(out)).toEqual([0, -1257963520, -1257963520, -2147479015]);
    expect(values(out)).toEqual(Array.from(tfjsCpu(big, eye, {})));
    for (const x of [big, eye, out]) x.dispose();
  });

  it('empty dimensions give empty or bias-only results', () => {
    const cases: [number[], number[], number[]][] = [[[0, 3], [3, 4], [0, 4]], [[2, 3], [3, 0], [2, 0]], [[0, 2, 3], [3, 4], [0, 2, 4]]];
    const zeros = (shape: number[]) => new Array<number>(shape.reduce((x, y) => x * y, 1)).fill(0);
    for (const [as, bs, outShape] of cases) {
      const a = array(zeros(as), as);
      const b = array(zeros(bs), bs);
      const out = matMul(a, b);
      expect(out.shape).toEqual(outShape);
      for (const x of [a, b, out]) x.dispose();
    }
    const a = array([], [2, 0]);
    const b = array([], [0, 3]);
    const bias = array([1, -2, 3], [3]);
    const plain = matMul(a, b);
    const fused = matMul(a, b, { bias, activation: 'relu' });
    expect(values(plain)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(values(fused)).toEqual([1, 0, 3, 1, 0, 3]);
    for (const x of [a, b, bias, plain, fused]) x.dispose();
  });

  it('NaN and Inf propagate as in tfjs', () => {
    const a = array([NaN, 1, 2, 3, Infinity, 0], [3, 2]);
    const b = array([1, 0, -1, 2, 5, 1], [2, 3]);
    checkMatMul(a, b, {}, 2);
    checkMatMul(a, b, { activation: 'relu' }, 2);
    const bias = array([-Infinity, 0, 1], [3]);
    checkMatMul(a, b, { activation: 'sigmoid', bias }, 2);
    for (const x of [a, b, bias]) x.dispose();
  });

  it('bad arguments give errors naming the op, the argument and what was expected', () => {
    const a = array([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = array([1, 2, 3, 4], [2, 2]);
    const v = array([1, 2, 3], [3]);
    const i = array([1, 2, 3, 4], [2, 2], 'int32');
    expect(() => matMul(a, b)).toThrow('matMul: expected inner dimension 3 (that of a) for b but got 2 (shape [2,2])');
    expect(() => matMul(v, b)).toThrow('matMul: expected rank >= 2 for a but got shape [3]');
    expect(() => matMul(a, i)).toThrow('matMul: expected dtype float32 (that of a) for b but got int32');
    expect(() => matMul(b, b, { bias: v })).toThrow('matMul: expected a shape that broadcasts to [2,2] for bias but got [3]');
    expect(() => matMul(b, b, { activation: 'tanh' as Activation })).toThrow('matMul: expected one of linear, relu, relu6, leakyrelu, prelu, elu, sigmoid for activation but got string tanh');
    expect(() => matMul(b, b, { activation: 'prelu' })).toThrow('matMul: expected a DeviceArray for preluActivationWeights (activation prelu) but got undefined');
    expect(() => matMul(i, i, { activation: 'relu' })).toThrow('matMul: expected float32 operands for a fused bias or activation but got int32');
    expect(() => matMul(a, a, { transposeB: 1 as never })).toThrow('matMul: expected a boolean for transposeB but got number 1');
    const a3 = array(new Array(12).fill(1), [2, 2, 3]);
    const b3 = array(new Array(18).fill(1), [3, 3, 2]);
    expect(() => matMul(a3, b3)).toThrow('matMul: expected batch dimensions that broadcast together for a and b but got [2] and [3]');
    for (const x of [a, b, v, i, a3, b3]) x.dispose();
    expect(() => matMul(a, b)).toThrow('matMul: expected a live DeviceArray for a but got one already disposed');
  });
});

describe('tessera-cpu backend: BatchMatMul and _FusedMatMul', () => {
  afterAll(() => {
    tf.setBackend('cpu');
  });

  /** Runs `f` on tessera-cpu and on tfjs-backend-cpu with the same inputs. */
  function both(f: () => tf.Tensor, k: number): void {
    tf.setBackend('tessera-cpu');
    const before = tf.memory().numTensors;
    const ours = tf.tidy(() => {
      const y = f();
      return { values: y.dataSync().slice(), shape: y.shape, dtype: y.dtype };
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.setBackend('cpu');
    const theirs = tf.tidy(() => {
      const y = f();
      return { values: y.dataSync().slice(), shape: y.shape, dtype: y.dtype };
    });
    expect(ours.shape).toEqual(theirs.shape);
    expect(ours.dtype).toBe(theirs.dtype);
    expectClose(ours.values, theirs.values, ours.dtype as 'float32', ours.dtype === 'int32' ? {} : tolFor(k));
  }

  const rand = rng(2024);
  const data = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => {
    const n = shape.reduce((x, y) => x * y, 1);
    return { values: Array.from({ length: n }, () => (dtype === 'int32' ? Math.round(-9 + 18 * rand()) : -1 + 2 * rand())), shape, dtype };
  };
  const t = (d: ReturnType<typeof data>) => tf.tensor(d.values, d.shape, d.dtype);

  it('tf.matMul: transposes, batches, int32, a large size', () => {
    for (const [transA, transB] of TRANSPOSES) {
      const a = data(transA ? [17, 13] : [13, 17]);
      const b = data(transB ? [19, 17] : [17, 19]);
      both(() => tf.matMul(t(a), t(b), transA, transB), 17);
    }
    const a3 = data([4, 5, 6]);
    const b3 = data([4, 6, 7]);
    const b2 = data([6, 7]);
    both(() => tf.matMul(t(a3), t(b3)), 6);
    both(() => tf.matMul(t(a3), t(b2)), 6);
    const ai = data([3, 5, 6], 'int32');
    const bi = data([6, 4], 'int32');
    both(() => tf.matMul(t(ai), t(bi)), 6);
    const big = data([300, 260]);
    const bigB = data([260, 270]);
    both(() => tf.matMul(t(big), t(bigB)), 260);
  });

  it('tf.matMul: batch shapes tfjs indexes by modulo, and bool, go to tfjs-backend-cpu unchanged', () => {
    const a = data([2, 3, 4, 5]);
    const b = data([2, 1, 5, 6]);
    both(() => tf.matMul(t(a), t(b)), 5);
    const attrs = { transposeA: false, transposeB: false };
    both(() => {
      const x = tf.tensor([1, 0, 1, 1], [2, 2], 'bool');
      return tf.engine().runKernel('BatchMatMul', { a: x, b: x }, attrs) as tf.Tensor;
    }, 2);
  });

  it('tf.fused.matMul: every activation, bias shapes, prelu weights', () => {
    const [m, n, k] = [6, 10, 14];
    for (const activation of ACTIVATIONS) {
      for (const biasShape of [undefined, [n], [1, n], [], [m, n], [m, 1], [2, m, n]]) {
        const a = data([2, m, k]);
        const b = data([k, n]);
        const bias = biasShape ? data(biasShape) : undefined;
        const prelu = data([n]);
        both(() => tf.fused.matMul({
          a: t(a), b: t(b), bias: bias && t(bias), activation,
          preluActivationWeights: activation === 'prelu' ? t(prelu) : undefined, leakyreluAlpha: 0.3,
        }), k);
      }
    }
    const a = data([m, k]);
    const at = data([k, m]);
    const b = data([n, k]);
    const bias = data([n]);
    both(() => tf.fused.matMul({ a: t(a), b: t(b), transposeB: true, bias: t(bias), activation: 'elu' }), k);
    both(() => tf.fused.matMul({ a: t(at), b: t(b), transposeA: true, transposeB: true, activation: 'relu' }), k);
  });

  it('_FusedMatMul: a bias that enlarges the product goes to tfjs-backend-cpu', () => {
    const a = data([1, 3, 4]);
    const b = data([1, 4, 5]);
    const bias = data([2, 3, 5]);
    const attrs = { transposeA: false, transposeB: false, activation: 'relu', leakyreluAlpha: 0.2 };
    both(() => tf.engine().runKernel('_FusedMatMul', { a: t(a), b: t(b), bias: t(bias) }, attrs) as tf.Tensor, 4);
  });

  it('gradients through the fused product agree with tfjs-backend-cpu', () => {
    const a = data([5, 7]);
    const b = data([7, 3]);
    const bias = data([3]);
    both(() => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.sum(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu' })));
      const [da, db, dbias] = g([t(a), t(b), t(bias)]);
      return tf.concat([tf.reshape(da, [-1]), tf.reshape(db, [-1]), tf.reshape(dbias, [-1])]);
    }, 7);
  });
});
