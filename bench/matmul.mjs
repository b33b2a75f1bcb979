#!/usr/bin/env node
// matMul speed through the direct kernel API and through tf.matMul on tessera-cpu (and, for
// comparison, tfjs-backend-cpu and tfjs-backend-wasm on the smaller sizes), as GFLOP/s =
// 2*m*n*k / median seconds / 1e9.
//
// usage: npm run build && node bench/matmul.mjs [--sizes 256,512,1024] [--threads 2]
//          [--backends tessera-cpu,wasm,cpu] [--repeats 15]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import { array, kernels, native } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const sizes = option('--sizes', '256,512,1024').split(',').map(Number);
const threads = Number(option('--threads', '2'));
const backends = option('--backends', 'tessera-cpu').split(',');
const repeats = Number(option('--repeats', '15'));
native.setNumThreads(threads);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
function time(run) {
  run();
  const times = [];
  const budget = performance.now() + 5000;
  for (let r = 0; r < repeats && (r < 3 || performance.now() < budget); r++) {
    const t0 = performance.now();
    run();
    times.push((performance.now() - t0) / 1e3);
  }
  return median(times);
}
const gflops = (n, seconds) => ((2 * n * n * n) / seconds / 1e9).toFixed(1);
const random = (n) => Array.from({ length: n * n }, () => Math.random() - 0.5);

console.log(`matMul, ${threads} thread(s), ${native.buildInfo().isa}: GFLOP/s (median of up to ${repeats})`);
for (const n of sizes) {
  const av = random(n);
  const bv = random(n);
  const row = [`${n}x${n}x${n}`.padEnd(16)];
  const a = array(av, [n, n]);
  const b = array(bv, [n, n]);
  row.push(`direct ${gflops(n, time(() => kernels.matMul(a, b).dispose()))}`);
  a.dispose();
  b.dispose();
  for (const backend of backends) {
    // tfjs-backend-cpu needs seconds per product at 1024: only the smaller sizes.
    if (backend === 'cpu' && n > 512) continue;
    await tf.setBackend(backend);
    await tf.ready();
    const ta = tf.tensor2d(av, [n, n]);
    const tb = tf.tensor2d(bv, [n, n]);
    // These backends compute inside the call: no dataSync (which would time a 4 MB copy too).
    row.push(`tf.matMul@${backend} ${gflops(n, time(() => tf.matMul(ta, tb).dispose()))}`);
    tf.dispose([ta, tb]);
  }
  console.log(row.join('   '));
}
