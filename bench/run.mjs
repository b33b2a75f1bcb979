#!/usr/bin/env node
// Side-by-side benchmark: tessera-cpu beside tfjs-backend-cpu and tfjs-backend-wasm (4.22.0),
// all in one process and one run. benchmark.js times each case on each backend; the table
// shows medians, the derived figure with its formula, and tessera-cpu's speed-up over each
// peer (peer median / tessera median). Results are also written as JSON.
//
// usage: npm run bench [-- --only TEXT] [--backends tessera-cpu,cpu,wasm] [--max-time S]
import Benchmark from 'benchmark';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { native, runtimeInfo } from '../dist/index.js';
import { CASES } from './cases.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const only = option('--only', '');
const backends = option('--backends', 'tessera-cpu,cpu,wasm').split(',');
const maxTime = Number(option('--max-time', '2'));
const OURS = 'tessera-cpu';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(c, run) {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(c.name, {
      defer: Boolean(c.async),
      fn: c.async ? (deferred) => run().then(() => deferred.resolve()) : run,
      minSamples: 5,
      maxTime,
      initCount: 1,
      onComplete: () => (bench.error ? reject(bench.error) : resolve(bench.stats)),
      onError: (e) => reject(e.target.error),
    });
    bench.run({ async: true });
  });
}

const results = [];
for (const c of CASES.filter((c) => c.name.includes(only))) {
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    const { run, dispose } = c.setup();
    // Warm-up outside the timing: first-call costs (wasm compilation, allocations).
    await run();
    const stats = await measure(c, run);
    dispose();
    const seconds = median(stats.sample);
    const figure = c.perOp ? (seconds * 1e6) / c.work : c.work / seconds;
    results.push({ case: c.name, backend, medianMs: seconds * 1e3, samples: stats.sample.length, rme: stats.rme, unit: c.unit, formula: c.formula, figure });
    console.error(`${c.name} on ${backend}: ${(seconds * 1e3).toFixed(3)} ms (${stats.sample.length} samples, ±${stats.rme.toFixed(1)}%)`);
  }
}

const lines = [];
const peers = backends.filter((b) => b !== OURS);
lines.push(`| case | backend | median ms | figure | formula | ${peers.map((p) => `${OURS} vs ${p}`).join(' | ')} |`);
lines.push(`|---|---|---:|---:|---|${peers.map(() => '---:').join('|')}|`);
for (const c of CASES) {
  const rows = results.filter((r) => r.case === c.name);
  const ours = rows.find((r) => r.backend === OURS);
  for (const r of rows) {
    const ratios = peers.map((p) => {
      const peer = rows.find((x) => x.backend === p);
      return r.backend === OURS && peer ? `${(peer.medianMs / ours.medianMs).toFixed(2)}x` : '';
    });
    const fig = r.figure >= 100 ? r.figure.toFixed(0) : r.figure.toFixed(2);
    lines.push(`| ${c.name} | ${r.backend} | ${r.medianMs.toFixed(3)} | ${fig} ${r.unit} | ${r.formula} | ${ratios.join(' | ')} |`);
  }
}
const table = lines.join('\n');
console.log(table);
const info = runtimeInfo();
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, isa: info.build.isa, threads: native.numThreads(), node: process.version };
console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, tessera ${machine.isa} with ${machine.threads} threads; tfjs-backend-wasm runs one thread in Node (SIMD on)`);
console.log("ratios: peer median / tessera-cpu median (above 1: tessera-cpu is faster)");
const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, tessera: info.version, results }, null, 2));
console.log(`JSON: ${file}`);
