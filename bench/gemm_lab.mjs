#!/usr/bin/env node
// The GEMM kernel lab runner: every variant of native/cpu/gemm_lab.h on the same operands,
// checked against SgemmRef, timed as the median of repeats.
//
// usage: node bench/gemm_lab.mjs [--sizes 256,512,1024 | --sizes 300x200x100,...]
//          [--variants 0,3,4,7] [--threads 2] [--trans nn|nt|tn|tt] [--repeats 7]
//          [--kc N --mc N --nc N] [--no-check]
// A size N means m = n = k = N; MxNxK gives them apart. GFLOP/s = 2*m*n*k / seconds / 1e9.
// Needs the addon built (npm run build:native).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(join(root, 'build', 'Release', 'tessera.node'));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const sizes = option('--sizes', '64,256,512,1024').split(',').map((s) => {
  const parts = s.split('x').map(Number);
  return parts.length === 1 ? [parts[0], parts[0], parts[0]] : parts;
});
const variants = native.gemmLabVariants();
const chosen = option('--variants', variants.map((_, i) => i).join(',')).split(',').map(Number);
const threads = Number(option('--threads', String(native.numThreads())));
const trans = option('--trans', 'nn');
const repeats = Number(option('--repeats', '7'));
const block = ['--kc', '--mc', '--nc'].map((o) => Number(option(o, '0')));
const check = !args.includes('--no-check');
native.setNumThreads(threads);

let seed = 12345;
const random = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296 - 0.5;
};
const filled = (length) => {
  const a = native.alloc('float32', length);
  for (let i = 0; i < length; i++) a[i] = random();
  return a;
};

console.log(`gemm lab: ${threads} thread(s), isa ${native.buildInfo().isa}, trans ${trans}` +
  (block.some((b) => b > 0) ? `, kc/mc/nc ${block.join('/')}` : ''));
console.log(['size'.padEnd(16), ...chosen.map((v) => `${v} ${variants[v]?.name ?? '?'}`.padStart(22))].join(''));
for (const [m, n, k] of sizes) {
  const [ta, tb] = [trans[0] === 't', trans[1] === 't'];
  const a = filled(m * k);
  const b = filled(k * n);
  const c = native.alloc('float32', Math.max(m * n, 1));
  let ref;
  if (check) {
    ref = native.alloc('float32', Math.max(m * n, 1));
    native.sgemm('ref', ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, ref, n, false, null, false, 'linear', 0, null, false);
  }
  const row = [`${m}x${n}x${k}`.padEnd(16)];
  for (const v of chosen) {
    if (!variants[v]?.available) {
      row.push('n/a'.padStart(22));
      continue;
    }
    const run = () => native.gemmLab(v, ta, tb, m, n, k, a, b, c, ...block);
    run();
    let status = '';
    if (check) {
      let maxErr = 0;
      let maxRef = 1;
      for (let i = 0; i < m * n; i++) {
        maxErr = Math.max(maxErr, Math.abs(c[i] - ref[i]));
        maxRef = Math.max(maxRef, Math.abs(ref[i]));
      }
      if (!(maxErr <= 1e-5 * Math.sqrt(k) * maxRef)) status = ' WRONG';
    }
    // Enough repeats for a stable median, fewer for the slow variants on big sizes.
    const times = [];
    const budget = performance.now() + 3000;
    for (let r = 0; r < repeats && (r < 3 || performance.now() < budget); r++) {
      const t0 = performance.now();
      run();
      times.push((performance.now() - t0) / 1e3);
    }
    times.sort((x, y) => x - y);
    const median = times[times.length >> 1];
    row.push(`${((2 * m * n * k) / median / 1e9).toFixed(1)}${status}`.padStart(22));
  }
  console.log(row.join(''));
  for (const x of [a, b, c, ref]) if (x) native.release(x);
}
