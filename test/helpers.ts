// Shared test utilities: seeded random data, per-dtype tolerances, the leak check.
import { afterAll, beforeAll, expect } from 'vitest';

import { drainBufferPool } from '../src/device/buffer_pool.js';
import { native } from '../src/native.js';
import type { DType } from '../src/kernels/array.js';

/** mulberry32: small, fast, seeded, so a failure reproduces from its printed seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomValues(rand: () => number, n: number, dtype: DType, lo = -10, hi = 10): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const v = lo + (hi - lo) * rand();
    out[i] = dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v) : rand() < 0.5 ? 0 : 1;
  }
  return out;
}

export function randomShape(rand: () => number, rank: number, maxDim = 6): number[] {
  return Array.from({ length: rank }, () => 1 + Math.floor(rand() * maxDim));
}

/** Float tolerance: abs + |ref| * eps(dtype); exact for integer and bool dtypes. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, dtype: DType, opts: { abs?: number; rel?: number } = {}): void {
  expect(actual.length).toBe(expected.length);
  const abs = opts.abs ?? (dtype === 'float32' ? 1e-6 : 0);
  const rel = opts.rel ?? (dtype === 'float32' ? 1e-5 : 0);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) expect.fail(`element ${i}: expected NaN but got ${a}`);
      continue;
    }
    if (!Number.isFinite(e)) {
      if (a !== e) expect.fail(`element ${i}: expected ${e} but got ${a}`);
      continue;
    }
    if (!(Math.abs(a - e) <= abs + Math.abs(e) * rel)) {
      expect.fail(`element ${i}: expected ${e} but got ${a} (tolerance ${abs} + |ref| * ${rel})`);
    }
  }
}

/** Live native buffers, after the tfjs backend's pool of small recycled buffers is released. */
export function liveBuffers(): number {
  drainBufferPool();
  return native.bufferStats().liveBuffers;
}

/** Asserts that a suite leaves exactly as many live native buffers as it found. */
export function checkLeaks(): void {
  let before = 0;
  beforeAll(() => {
    before = liveBuffers();
  });
  afterAll(() => {
    expect(liveBuffers(), 'live native buffers after the suite').toBe(before);
  });
}
