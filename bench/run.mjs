#!/usr/bin/env node
// Side-by-side benchmark, all in one process and one run: tessera-cpu beside the tfjs
// backends cpu and wasm (4.22.0) and, where they are installed, the best CPU peers outside
// tfjs: OpenBLAS sgemm, onnxruntime-node, and a memory-bandwidth probe (bench/native; see
// `npm run bench:setup`). benchmark.js times each case on each of them; the table shows
// medians, the derived figure with its formula, tessera-cpu's speed-up over each peer (peer
// median / tessera-cpu median), and how far each peer's output is from tessera-cpu's.
// Results are also written as JSON.
//
// With --device webgpu the same cases run on tessera-webgpu beside tfjs-backend-webgpu 4.22.0,
// both in this process on the same Dawn adapter (dawn.node from the webgpu package, handed to
// tfjs-backend-webgpu as navigator.gpu). A sample there ends when the GPU has finished the
// work (tessera-webgpu: device.idle(); tfjs-backend-webgpu: submitQueue() and
// queue.onSubmittedWorkDone()), without reading the result back. On SwiftShader (no GPU)
// only the correctness column means anything.
//
// usage: npm run bench [-- --only TEXT] [--backends tessera-cpu,cpu,wasm,openblas,onnxruntime,bandwidth]
//                       [--max-time S per backend and case] [--rounds N] [--max-others F] [--retries N]
//                       [--openblas-core NAME (an OPENBLAS_CORETYPE; default: OpenBLAS detects the CPU)]
//        npm run bench -- --device webgpu [--only TEXT] [--max-time S] [--rounds N]
import Benchmark from 'benchmark';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { native, runtimeInfo, webGpuReport } from '../dist/index.js';
import { CASES } from './cases.mjs';
import { loadNativePeers, loadOnnxRuntime } from './peers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const gpu = option('--device', 'cpu') === 'webgpu';
const OURS = gpu ? 'tessera-webgpu' : 'tessera-cpu';
const TFJS = gpu ? [OURS, 'webgpu'] : [OURS, 'cpu', 'wasm'];
const PEERS = gpu ? [] : ['openblas', 'onnxruntime', 'bandwidth'];
const only = option('--only', '');
const wanted = option('--backends', [...TFJS, ...PEERS].join(',')).split(',');
let adapter = '';
if (gpu) {
  const report = await webGpuReport();
  if (!report.available) {
    console.error(`--device webgpu: ${report.reason}`);
    process.exit(1);
  }
  adapter = report.name;
  const { create, globals } = await import('webgpu');
  for (const [name, value] of Object.entries(globals)) if (!(name in globalThis)) globalThis[name] = value;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
}

/** Resolves when the backend's GPU has run everything submitted so far. */
async function gpuIdle(backendName) {
  const b = tf.engine().findBackend(backendName);
  if (backendName === 'tessera-webgpu') return b.device.idle();
  b.endComputePassEncoder();
  if (b.commandEncoder) b.submitQueue();
  await b.queue.onSubmittedWorkDone();
}
const maxTime = Number(option('--max-time', '3'));
const rounds = Number(option('--rounds', '3'));
const maxOthers = Number(option('--max-others', '0.1'));
const retries = Number(option('--retries', '4'));
const threads = native.numThreads();

const version = (pkg) => JSON.parse(readFileSync(join(here, '..', 'node_modules', pkg, 'package.json'), 'utf8')).version;
const absent = {};
const ctx = { threads };
const versions = gpu
  ? { 'tfjs-core': version('@tensorflow/tfjs-core'), 'tfjs-backend-webgpu': version('@tensorflow/tfjs-backend-webgpu'), webgpu: version('webgpu'), adapter }
  : { 'tfjs-core': version('@tensorflow/tfjs-core'), 'tfjs-backend-cpu': version('@tensorflow/tfjs-backend-cpu'), 'tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm') };
if (wanted.some((b) => b === 'openblas' || b === 'bandwidth')) {
  const loaded = loadNativePeers(threads, option('--openblas-core', ''));
  if (loaded.addon) {
    ctx.addon = loaded.addon;
    versions.openblas = `${loaded.blas.config} (kernels: ${loaded.blas.core}, ${loaded.blas.threads} threads)`;
    if (loaded.dropped) versions.openblas += `; the inherited OPENBLAS_CORETYPE=${loaded.dropped} was dropped (--openblas-core sets one)`;
  } else {
    absent.openblas = absent.bandwidth = loaded.reason;
  }
}
if (wanted.includes('onnxruntime')) {
  const loaded = await loadOnnxRuntime();
  if (loaded.ort) {
    ctx.ort = loaded.ort;
    versions['onnxruntime-node'] = loaded.version;
  } else {
    absent.onnxruntime = loaded.reason;
  }
}
for (const [peer, reason] of Object.entries(absent)) if (wanted.includes(peer)) console.error(`${peer}: left out: ${reason}`);
const backends = wanted.filter((b) => !absent[b]);

// CPU time the machine spent busy, all processes together (Linux /proc/stat), in seconds.
function machineBusySeconds() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return undefined;
  }
}

/** Starts a clock for the share of the cores that other processes took while it ran. */
function contention() {
  const busy0 = machineBusySeconds();
  const own0 = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const busy = machineBusySeconds();
    if (busy0 === undefined || busy === undefined) return undefined;
    const own = process.cpuUsage(own0);
    const wall = (performance.now() - wall0) / 1e3;
    return Math.max(0, (busy - busy0 - (own.user + own.system) / 1e6) / (wall * cpus().length));
  };
}

const percent = (x) => (x === undefined ? 'unknown' : `${(x * 100).toFixed(0)}%`);

function quantile(sorted, q) {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo);
}

function measure(name, run, async, seconds) {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      defer: async,
      fn: async ? (deferred) => run().then(() => deferred.resolve()) : run,
      minSamples: 5,
      maxTime: seconds,
      initCount: 1,
      onComplete: () => (bench.error ? reject(bench.error) : resolve(bench.stats)),
      onError: (e) => reject(e.target.error),
    });
    bench.run({ async: true });
  });
}

/** Largest |peer - reference| over the output, relative to the largest |reference|. */
function deviation(reference, output) {
  if (!reference || !output) return undefined;
  if (reference.length !== output.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(reference[i] - output[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / (scale || 1);
}

// Each case sets up all its backends first, then times them in interleaved rounds (the order
// rotating each round) and pools the samples: on a shared machine, load that comes and goes
// then falls on every backend alike instead of on whichever one ran at that moment, so the
// ratios within a case stay fair.
const results = [];
const notes = [];
const others = {};
const wholeRun = contention();
for (const c of CASES.filter((c) => c.name.includes(only))) {
  const caseClock = contention();
  const subjects = [];
  let reference;
  for (const backend of backends) {
    const isTfjs = TFJS.includes(backend);
    if (!isTfjs && !c.peers?.[backend]) continue;
    if (c.skip?.[backend]) {
      notes.push(`${c.name}: ${backend} skipped: ${c.skip[backend]}`);
      console.error(`${c.name} on ${backend}: skipped: ${c.skip[backend]}`);
      continue;
    }
    // Peers take their inputs from tfjs-core's seeded generator; tessera-cpu hosts it.
    const tfBackend = isTfjs ? backend : OURS;
    await tf.setBackend(tfBackend);
    await tf.ready();
    const subject = isTfjs ? c.setup() : await c.peers[backend](ctx);
    if (gpu) {
      const run = subject.run;
      subject.run = async () => {
        await run();
        await gpuIdle(tfBackend);
      };
    }
    // Warm-up outside the timing: first-call costs (wasm compilation, allocations).
    await subject.run();
    const output = subject.result ? await subject.result() : undefined;
    if (backend === OURS) reference = output;
    subjects.push({ backend, tfBackend, subject, output, async: gpu || (isTfjs ? Boolean(c.async) : Boolean(subject.async)), samples: [], others: undefined });
  }
  // A round during which other processes took more than --max-others of the cores is timed
  // again after a pause (up to --retries times); the last try is kept, and counted. Rounds
  // over 5 s (tfjs-backend-cpu's big cases, hundreds of times slower than the rest) are kept
  // as they come: waiting them out would take longer than the rest of the bench.
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[(i + round) % subjects.length];
      await tf.setBackend(s.tfBackend);
      for (let attempt = 0; ; attempt++) {
        const clock = contention();
        const started = performance.now();
        const stats = await measure(`${c.name} on ${s.backend}`, s.subject.run, s.async, maxTime / rounds);
        const share = clock();
        if (share === undefined || share <= maxOthers || attempt === retries || performance.now() - started > 5000) {
          s.samples.push(...stats.sample);
          if (share !== undefined) s.others = Math.max(s.others ?? 0, share);
          break;
        }
        console.error(`${c.name} on ${s.backend}: other processes took ${(share * 100).toFixed(0)}% of the cores; timing this round again`);
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    }
  }
  others[c.name] = caseClock();
  console.error(`${c.name}: other processes took ${percent(others[c.name])} of the cores meanwhile, at most ${percent(subjects.reduce((m, s) => (s.others === undefined ? m : Math.max(m ?? 0, s.others)), undefined))} in a round kept`);
  for (const { backend, subject, output, samples, others: othersShare } of subjects) {
    await tf.setBackend(TFJS.includes(backend) ? backend : OURS);
    await subject.dispose();
    const sorted = [...samples].sort((a, b) => a - b);
    const seconds = quantile(sorted, 0.5);
    const spread = (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / seconds;
    const figure = c.perOp ? (seconds * 1e6) / c.work : c.work / seconds;
    const dev = backend === OURS ? undefined : deviation(reference, output);
    results.push({ case: c.name, backend, detail: subject.detail, medianMs: seconds * 1e3, samples: samples.length, iqr: spread, unit: c.unit, formula: c.formula, figure, deviation: dev, othersShare });
    console.error(`${c.name} on ${backend}: ${(seconds * 1e3).toFixed(3)} ms (${samples.length} samples in ${rounds} rounds, IQR ${(spread * 100).toFixed(1)}% of the median)`);
  }
}

const lines = [];
lines.push(`| case | backend | median ms | figure | formula | ${OURS} speed-up (this ms / ${OURS} ms) | max abs diff vs ${OURS} (relative) | others' share of the cores (worst round kept) |`);
lines.push('|---|---|---:|---:|---|---:|---:|---:|');
for (const c of CASES) {
  const rows = results.filter((r) => r.case === c.name);
  const ours = rows.find((r) => r.backend === OURS);
  for (const r of rows) {
    const ratio = r.backend !== OURS && ours ? `${(r.medianMs / ours.medianMs).toFixed(2)}x` : '';
    const fig = r.figure >= 100 ? r.figure.toFixed(0) : r.figure.toFixed(2);
    const name = r.detail ? `${r.backend} (${r.detail})` : r.backend;
    const dev = r.deviation === undefined ? '' : r.deviation.toExponential(1);
    lines.push(`| ${c.name} | ${name} | ${r.medianMs.toFixed(3)} | ${fig} ${r.unit} | ${r.formula} | ${ratio} | ${dev} | ${percent(r.othersShare)} |`);
  }
}
console.log(lines.join('\n'));

// Memory-bound cases: tessera-cpu's rate as a share of what the probe moves over the same
// working set on the same threads.
const shares = [];
for (const c of CASES) {
  const ours = results.find((r) => r.case === c.name && r.backend === OURS);
  const probe = results.find((r) => r.case === c.name && r.backend === 'bandwidth');
  if (!ours || !probe) continue;
  const share = ours.figure / probe.figure;
  shares.push({ case: c.name, tessera: ours.figure, measured: probe.figure, loop: probe.detail, share });
  console.log(`${c.name}: tessera-cpu ${ours.figure.toFixed(1)} GB/s = ${share.toFixed(2)} of the ${probe.figure.toFixed(1)} GB/s measured at that size (${probe.detail}; goal >= 0.7)`);
}
for (const note of notes) console.log(note);
const runShare = wholeRun();
const busyRows = results.filter((r) => r.othersShare > maxOthers);
console.log(`other processes took ${percent(runShare)} of the cores during the run; rounds where they took over ${percent(maxOthers)} were timed again (up to ${retries} times)${busyRows.length ? `; still over it in: ${busyRows.map((r) => `${r.case} on ${r.backend} (${percent(r.othersShare)})`).join(', ')}` : ''}`);
// Threads that spin at a join (OpenBLAS, onnxruntime, the probe) lose far more than threads
// that sleep (tessera-cpu's pool) when a core is taken, so a busy machine skews the ratios.
if (busyRows.some((r) => r.backend !== 'cpu')) console.log('WARNING: the machine was shared during the rows above: their timings and ratios are not trustworthy; re-run them on an idle machine');

const info = runtimeInfo();
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), isa: info.build.isa, threads, node: process.version };
console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; tessera ${machine.isa} with ${threads} threads; node ${machine.node}`);
if (gpu) console.log(`adapter: ${adapter} (tessera-webgpu and tfjs-backend-webgpu on the same Dawn adapter)`);
else console.log(`threads: OpenBLAS, onnxruntime (intraOpNumThreads) and the bandwidth probe run ${threads} threads, as tessera-cpu does; tfjs-backend-wasm runs one thread in Node (SIMD on)`);
console.log(`versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; ')}`);
for (const [peer, reason] of Object.entries(absent)) if (wanted.includes(peer)) console.log(`${peer}: left out: ${reason}`);
console.log(`speed-up: peer median / ${OURS} median (above 1: ${OURS} is faster)${gpu ? '' : '; on a bandwidth row it is tessera-cpu GB/s / measured GB/s'}`);
const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `bench-${gpu ? 'webgpu-' : ''}${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, tessera: info.version, versions, absent, othersShare: { run: runShare, cases: others }, results, bandwidthShares: shares, notes }, null, 2));
console.log(`JSON: ${file}`);
