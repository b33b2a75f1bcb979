#!/usr/bin/env node
// Weak scaling of DataParallel: the step time of 1 rank over the step time of N ranks at the
// same batch per rank (efficiency = t(1) / t(N); 1.0 is perfect: N times the samples per
// second). Each rank runs one native thread (TESSERA_NUM_THREADS=1), so N ranks need N cores.
//
//   node bench/data_parallel.mjs [--np 2] [--steps 30] [--warmup 5] [--repeat 3] [--json out.json]
//
// The driver runs the worker once alone (plain node: 1 rank) and once under
// `tessera launch -n N`, then prints per model:
//   step       median wall time of dp.step (forward, backward, bucketed all-reduce, optimizer)
//   compute    the same step on a single-rank communicator, run by every rank at once
//              (so it includes their contention for cores and memory, but no communication)
//   allreduce  median time of one mean all-reduce of the gradients' size (and its busbw)
//   busbw      = algbw × 2(N-1)/N with algbw = gradient bytes / allreduce time (nccl-tests' definition)
// Models: the MNIST convnet of examples/mnist-data-parallel.mjs and a 784-1024-1024-10 MLP.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const steps = Number(option('--steps', 30));
const warmup = Number(option('--warmup', 5));

const MODELS = {
  'mnist-convnet': {
    batch: 64,
    input: [28, 28, 1],
    build: () => [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  },
  'mlp-784-1024-1024-10': {
    batch: 64,
    input: [784],
    build: () => [
      tfl.layers.dense({ inputShape: [784], units: 1024, activation: 'relu' }),
      tfl.layers.dense({ units: 1024, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function worker(out) {
  const { Communicator, DataParallel, SingleRankEngine, world } = await import('../dist/parallel/index.js');
  await import('../dist/index.js');
  const results = {};
  for (const [name, spec] of Object.entries(MODELS)) {
    const model = tfl.sequential({ layers: spec.build() });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([spec.batch, ...spec.input], 0, 1, 'float32', 1 + world.rank);
    const y = tf.oneHot(tf.randomUniform([spec.batch], 0, 10, 'int32', 2 + world.rank), 10).cast('float32');
    const batch = { xs: [x], ys: [y] };
    const time = async (dp) => {
      for (let i = 0; i < warmup; i++) await dp.step(batch);
      await world.barrier();
      const t = [];
      for (let i = 0; i < steps; i++) {
        const s = performance.now();
        await dp.step(batch);
        t.push(performance.now() - s);
      }
      return median(t);
    };
    const stepMs = await time(new DataParallel(model));
    const computeMs = await time(new DataParallel(model, { communicator: new Communicator(new SingleRankEngine()) }));
    const params = model.countParams();
    const grads = tf.zeros([params + 1]);
    const ar = [];
    for (let i = 0; i < warmup + steps; i++) {
      await world.barrier();
      const s = performance.now();
      const r = await world.allReduce(grads, 'mean');
      if (i >= warmup) ar.push(performance.now() - s);
      r.dispose();
    }
    const allReduceMs = median(ar);
    // A one-float all-reduce: its time is latency only (the α of the cost model).
    const one = tf.zeros([1]);
    const lat = [];
    for (let i = 0; i < warmup + steps; i++) {
      await world.barrier();
      const s = performance.now();
      const r = await world.allReduce(one, 'mean');
      if (i >= warmup) lat.push(performance.now() - s);
      r.dispose();
    }
    one.dispose();
    const latencyMs = median(lat);
    const bytes = (params + 1) * 4;
    const algbw = bytes / (allReduceMs / 1000) / 1e9;
    results[name] = { params, batchPerRank: spec.batch, stepMs, computeMs, allReduceMs, latencyMs, bytes, algbwGBs: algbw, busbwGBs: algbw * (2 * (world.size - 1)) / world.size };
    tf.dispose([x, y, grads]);
    model.dispose();
  }
  if (world.rank === 0) writeFileSync(out, JSON.stringify({ size: world.size, results }));
}

function run(np, out) {
  const env = { ...process.env, TESSERA_NUM_THREADS: '1' };
  const workerArgs = [fileURLToPath(import.meta.url), '--worker', out, '--steps', String(steps), '--warmup', String(warmup)];
  const argv = np === 1 ? workerArgs : [join(here, '../dist/cli.js'), 'launch', '-n', String(np), ...workerArgs];
  const r = spawnSync(process.execPath, argv, { env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench worker at np ${np} failed (exit ${r.status})`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

if (args.includes('--worker')) {
  await worker(option('--worker'));
} else {
  const np = Number(option('--np', 2));
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dp-bench-'));
  try {
    // 1 rank and N ranks alternate `repeat` times and each figure is the median over the
    // runs, so that a burst of load from other processes does not decide the ratio alone.
    const repeat = Number(option('--repeat', 3));
    const ones = [], manys = [];
    for (let i = 0; i < repeat; i++) {
      ones.push(run(1, join(dir, 'np1.json')));
      manys.push(run(np, join(dir, `np${np}.json`)));
    }
    const medianOf = (runs) => {
      const r = structuredClone(runs[0]);
      for (const [name, v] of Object.entries(r.results)) {
        for (const k of Object.keys(v)) if (typeof v[k] === 'number') v[k] = median(runs.map((x) => x.results[name][k]));
      }
      return r;
    };
    const one = medianOf(ones), many = medianOf(manys);
    console.log(`\nDataParallel weak scaling, np ${np} vs 1, one native thread per rank, median of ${steps} steps after ${warmup} warm-up steps, median of ${repeat} alternating runs`);
    console.log('model                  params   batch/rank  step np1  step np' + np + '  compute np' + np + '  allreduce np' + np + '  busbw np' + np + '   efficiency = step np1 / step np' + np);
    const summary = {};
    for (const [name, a] of Object.entries(one.results)) {
      const b = many.results[name];
      const eff = a.stepMs / b.stepMs;
      summary[name] = { np, stepMsNp1: a.stepMs, stepMsNpN: b.stepMs, computeMsNpN: b.computeMs, allReduceMsNpN: b.allReduceMs, busbwGBs: b.busbwGBs, gradientBytes: b.bytes, efficiency: eff };
      console.log(`${name.padEnd(22)} ${String(a.params).padStart(8)} ${String(a.batchPerRank).padStart(11)} ${a.stepMs.toFixed(2).padStart(7)} ms ${b.stepMs.toFixed(2).padStart(7)} ms ${b.computeMs.toFixed(2).padStart(9)} ms ${b.allReduceMs.toFixed(3).padStart(9)} ms ${b.busbwGBs.toFixed(2).padStart(7)} GB/s   ${eff.toFixed(3)}`);
    }
    console.log(`(load average during the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores)`);

    // The ring all-reduce cost model (docs/scaling.md): T_ar(n) = 2(n-1)/n · S / busbw + 2(n-1) · α,
    // with S the gradient bytes, busbw measured above at np N, α = (one-float all-reduce at np N) / (2(N-1)).
    // Tessera cannot overlap the backward pass with the all-reduce (data_parallel.ts), so
    // E(n) = T_c / (T_c + T_ar(n)) with T_c the measured 1-rank step time.
    console.log('\nscaling model: E(n) = T_c / (T_c + 2(n-1)/n · S / busbw + 2(n-1) · α); busbw for E = 0.9 solves the same for busbw');
    for (const [name, a] of Object.entries(one.results)) {
      const b = many.results[name];
      const alpha = b.latencyMs / (2 * (np - 1));
      const busbw = b.busbwGBs * 1e9;
      const rows = [];
      for (const n of [8, 16, 32, 64, 128, 256, 512]) {
        const bw = ((2 * (n - 1)) / n) * b.bytes / busbw * 1000;
        const lat = 2 * (n - 1) * alpha;
        const e = a.stepMs / (a.stepMs + bw + lat);
        const budget = a.stepMs / 9 - lat;
        const need = budget > 0 ? ((2 * (n - 1)) / n) * b.bytes / (budget / 1000) / 1e9 : Infinity;
        rows.push({ n, bandwidthMs: bw, latencyMs: lat, efficiency: e, busbwFor90GBs: need });
      }
      summary[name].model = { computeMs: a.stepMs, gradientBytes: b.bytes, busbwGBs: b.busbwGBs, alphaMs: alpha, rows };
      console.log(`${name}: T_c ${a.stepMs.toFixed(2)} ms, S ${(b.bytes / 1e6).toFixed(3)} MB, busbw ${b.busbwGBs.toFixed(2)} GB/s, α ${(alpha * 1000).toFixed(1)} µs`);
      for (const r of rows) {
        console.log(`  n ${String(r.n).padStart(3)}: bandwidth term ${r.bandwidthMs.toFixed(3)} ms, latency term ${r.latencyMs.toFixed(3)} ms, E ${r.efficiency.toFixed(3)}, busbw for E 0.9: ${Number.isFinite(r.busbwFor90GBs) ? `${r.busbwFor90GBs.toFixed(2)} GB/s` : 'none (latency alone exceeds T_c / 9)'}`);
      }
    }
    const json = option('--json');
    if (json) writeFileSync(json, JSON.stringify(summary, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
