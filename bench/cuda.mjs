#!/usr/bin/env node
// tessera-cuda beside PyTorch (cuBLAS, cuDNN and its own CUDA kernels) on the same GPU, in one
// run: SGEMM fp32 with TF32 off, the TF32 and BF16 tensor-core paths beside cuBLAS's,
// elementwise kernels, reductions and softmax beside the device-to-device copy bandwidth
// measured in the same run (the addon's cudaMemcpy probe), conv2d beside cuDNN, and two tfjs
// workloads (an MLP training step, convnet inference) on tessera-cuda beside tessera-cpu.
//
// Kernels are timed through the addon's bindings (no tfjs in between): each sample enqueues a
// few runs and waits for the stream; the median sample is reported. PyTorch is timed with
// CUDA events (bench/torch_peer.py, started from here). Formulas beside each figure:
//   GFLOP/s = 2*m*n*k / s (conv: 2 * N*OH*OW*OC * FH*FW*C / s); GB/s = bytes read + written / s;
//   ratio = PyTorch's time / tessera's (above 1: tessera is faster).
// Results are printed as a table and written to bench/results/cuda-<date>.json.
//
// usage: node bench/cuda.mjs [--device cuda:N] [--gemm 4096] [--elements 67108864] [--samples 15]
//          [--python python3] [--no-torch] [--no-models]
// Needs a CUDA device (and, for the peer, python3 with torch); elsewhere it says why and exits.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers' Node bundle registers tfjs-core's gradients (tfjs-core's own Node bundle does not).
import '@tensorflow/tfjs-layers';

import { configureCuda, cudaAvailability, native, runtimeInfo } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

const availability = cudaAvailability();
if (!availability.available) {
  console.error(`bench/cuda.mjs: ${availability.reason}`);
  process.exit(1);
}
const deviceSpec = option('--device', 'cuda:0');
const device = Number(/^cuda:(\d+)$/.exec(deviceSpec)?.[1] ?? NaN);
if (!(device >= 0 && device < availability.devices.length)) {
  console.error(`bench/cuda.mjs: expected --device cuda:0..cuda:${availability.devices.length - 1} but got ${deviceSpec}`);
  process.exit(2);
}
const GEMM = Number(option('--gemm', '4096'));
const ELEMENTS = Number(option('--elements', String(64 << 20)));
const SAMPLES = Number(option('--samples', '15'));
const SOFTMAX = [8192, 4096];
const REDUCE_ROWS = [Math.max(1, ELEMENTS >> 10), 1024];
// name: [N, H, W, C, FH, FW, OC], 'same' padding, stride 1
const CONVS = { conv_56x56x64: [32, 56, 56, 64, 3, 3, 64], conv_28x28x128: [64, 28, 28, 128, 3, 3, 128], conv_224x224x3: [16, 224, 224, 3, 7, 7, 64] };

let seed = 2024;
const random = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296 - 0.5;
};
const buffers = [];
const upload = (length) => {
  const b = native.cudaAlloc(device, 'float32', length);
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = random();
  native.cudaUpload(b, values);
  buffers.push(b);
  return b;
};
const output = (length, dtype = 'float32') => {
  const b = native.cudaAlloc(device, dtype, length);
  buffers.push(b);
  return b;
};

/** Median milliseconds per run: samples of `inner` enqueued runs, each ended by a stream sync. */
function medianMs(run) {
  run();
  native.cudaSync(device);
  const t0 = performance.now();
  run();
  native.cudaSync(device);
  const once = performance.now() - t0;
  const inner = Math.max(1, Math.min(100, Math.floor(20 / Math.max(once, 1e-3))));
  const times = [];
  for (let s = 0; s < SAMPLES; s++) {
    const start = performance.now();
    for (let i = 0; i < inner; i++) run();
    native.cudaSync(device);
    times.push((performance.now() - start) / inner);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const rows = [];
function record(name, formula, work, tesseraMs, peerName, peerMs, unit) {
  const rate = (ms) => (ms === undefined ? undefined : work / (ms / 1e3) / 1e9);
  rows.push({ name, formula, unit, tesseraMs, tesseraRate: rate(tesseraMs), peer: peerName, peerMs, peerRate: rate(peerMs),
    ratio: peerMs === undefined ? undefined : peerMs / tesseraMs });
}

// ---- the PyTorch peer, first, so that both sides see a GPU at the same temperature ----
let torch = null;
let torchError = '';
if (!args.includes('--no-torch')) {
  const config = { device, samples: SAMPLES, inner: 5, gemm: GEMM, elements: ELEMENTS, softmax: SOFTMAX, convs: CONVS };
  try {
    torch = JSON.parse(execFileSync(option('--python', 'python3'), [join(here, 'torch_peer.py'), JSON.stringify(config)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 }));
  } catch (e) {
    torchError = String(e.stderr || e.message).trim().split('\n').slice(-1)[0];
    console.error(`PyTorch peer unavailable: ${torchError}`);
  }
}
const peer = (key) => torch?.ms?.[key];

// ---- kernels through the bindings ----
const a = upload(GEMM * GEMM), b = upload(GEMM * GEMM), c = output(GEMM * GEMM);
for (const precision of ['fp32', 'tf32', 'bf16']) {
  const ms = medianMs(() => native.cudaMatMul(a, b, c, 1, GEMM, GEMM, GEMM, false, false, 0, 0, null, 'linear', 0, precision));
  record(`sgemm ${GEMM} ${precision}`, '2*m*n*k', 2 * GEMM ** 3, ms, precision === 'fp32' ? 'cuBLAS (TF32 off)' : `cuBLAS ${precision}`, peer(`sgemm_${precision}`), 'GFLOP/s');
}

const copyMs = native.cudaCopyProbe(device, ELEMENTS * 4, SAMPLES).milliseconds;
record(`device copy ${ELEMENTS * 4 >> 20} MiB`, 'read+write bytes', 2 * ELEMENTS * 4, copyMs, 'torch copy_', peer('copy'), 'GB/s');
const x = upload(ELEMENTS), y = upload(ELEMENTS), z = output(ELEMENTS);
record(`add ${ELEMENTS}`, '3*4*n bytes', 3 * 4 * ELEMENTS, medianMs(() => native.cudaBinary('Add', x, [ELEMENTS], y, [ELEMENTS], z)), 'torch.add', peer('add'), 'GB/s');
record(`relu ${ELEMENTS}`, '2*4*n bytes', 2 * 4 * ELEMENTS, medianMs(() => native.cudaUnary('Relu', x, z)), 'torch.clamp_min', peer('relu'), 'GB/s');
const total = output(1);
record(`sum ${ELEMENTS}`, '4*n bytes', 4 * ELEMENTS, medianMs(() => native.cudaReduce('Sum', x, [ELEMENTS], [0], total)), 'torch.sum', peer('sum'), 'GB/s');
const matrix = upload(REDUCE_ROWS[0] * REDUCE_ROWS[1]), rowSums = output(REDUCE_ROWS[0]);
record(`sum rows ${REDUCE_ROWS.join('x')}`, '4*n bytes', 4 * REDUCE_ROWS[0] * REDUCE_ROWS[1],
  medianMs(() => native.cudaReduce('Sum', matrix, REDUCE_ROWS, [1], rowSums)), undefined, undefined, 'GB/s');
const logits = upload(SOFTMAX[0] * SOFTMAX[1]), probs = output(SOFTMAX[0] * SOFTMAX[1]);
record(`softmax ${SOFTMAX.join('x')}`, '2*4*n bytes', 2 * 4 * SOFTMAX[0] * SOFTMAX[1], medianMs(() => native.cudaSoftmax(logits, SOFTMAX, probs)),
  'torch.softmax', peer('softmax'), 'GB/s');

for (const [name, [n, h, w, ch, fh, fw, oc]] of Object.entries(CONVS)) {
  const cx = upload(n * h * w * ch), cf = upload(fh * fw * ch * oc), cy = output(n * h * w * oc);
  const geometry = [1, 1, 1, 1, fh >> 1, fw >> 1, h, w];
  const ms = medianMs(() => native.cudaConv2d(cx, [n, h, w, ch], cf, [fh, fw, ch, oc], cy, geometry, null, 'linear', 0));
  record(`${name} (batch ${n}, ${fh}x${fw}x${oc})`, '2*N*OH*OW*OC*FH*FW*C', 2 * n * h * w * oc * fh * fw * ch, ms, 'cuDNN fp32 (TF32 off)', peer(name), 'GFLOP/s');
}
for (const buffer of buffers) native.cudaFree(buffer);

// ---- tfjs workloads: tessera-cuda beside tessera-cpu ----
const models = [];
if (!args.includes('--no-models')) {
  configureCuda({ device: deviceSpec });
  const time = (fn, samples) => {
    fn();
    const times = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      fn();
      times.push(performance.now() - t0);
    }
    times.sort((p, q) => p - q);
    return times[times.length >> 1];
  };
  const mlpStep = () => {
    const w1 = tf.variable(tf.randomNormal([784, 512], 0, 0.05)), w2 = tf.variable(tf.randomNormal([512, 256], 0, 0.05));
    const w3 = tf.variable(tf.randomNormal([256, 10], 0, 0.05));
    const xs = tf.randomUniform([256, 784]), labels = tf.oneHot(tf.randomUniform([256], 0, 10, 'int32'), 10);
    const optimizer = tf.train.sgd(0.01);
    const step = () => {
      const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.relu(tf.matMul(tf.relu(tf.matMul(xs, w1)), w2)), w3)), true);
      cost.dataSync();  // the step's one sync point
      cost.dispose();
    };
    return { step, dispose: () => { tf.dispose([w1, w2, w3, xs, labels]); optimizer.dispose(); } };
  };
  const convnet = () => {
    const f1 = tf.randomNormal([3, 3, 1, 32], 0, 0.1), f2 = tf.randomNormal([3, 3, 32, 64], 0, 0.1), w = tf.randomNormal([7 * 7 * 64, 10], 0, 0.05);
    const xs = tf.randomUniform([64, 28, 28, 1]);
    const step = () => tf.tidy(() => {
      const h1 = tf.maxPool(tf.relu(tf.conv2d(xs, f1, 1, 'same')), 2, 2, 'valid');
      const h2 = tf.maxPool(tf.relu(tf.conv2d(h1, f2, 1, 'same')), 2, 2, 'valid');
      return tf.softmax(tf.matMul(tf.reshape(h2, [64, -1]), w)).dataSync();
    });
    return { step, dispose: () => tf.dispose([f1, f2, w, xs]) };
  };
  for (const [name, make, samples] of [['MLP training step (batch 256, 784-512-256-10, SGD)', mlpStep, 20], ['convnet inference (batch 64, 28x28x1, 2 conv + dense)', convnet, 20]]) {
    const result = { name };
    for (const backend of ['tessera-cuda', 'tessera-cpu']) {
      await tf.setBackend(backend);
      const w = make();
      result[backend] = time(w.step, samples);
      w.dispose();
    }
    result.ratio = result['tessera-cpu'] / result['tessera-cuda'];
    models.push(result);
  }
}

// ---- report ----
const d = availability.devices[device];
console.log(`tessera-cuda on cuda:${device} ${d.name} (sm ${d.computeCapability})` +
  (torch ? `; PyTorch ${torch.torch} (CUDA ${torch.cuda}, cuDNN ${torch.cudnn}) on ${torch.device}` : `; no PyTorch peer (${torchError || 'skipped'})`));
const fmt = (v, digits = 1) => (v === undefined ? '-' : v.toFixed(digits));
console.log(['case'.padEnd(44), 'tessera ms'.padStart(11), 'rate'.padStart(10), 'peer'.padStart(24), 'peer ms'.padStart(10), 'rate'.padStart(10), 'peer/ours'.padStart(10), '  unit (formula)'].join(''));
for (const r of rows) {
  console.log([r.name.padEnd(44), fmt(r.tesseraMs, 3).padStart(11), fmt(r.tesseraRate).padStart(10), (r.peer ?? '-').padStart(24),
    fmt(r.peerMs, 3).padStart(10), fmt(r.peerRate).padStart(10), fmt(r.ratio, 2).padStart(10), `  ${r.unit} (${r.formula})`].join(''));
}
const copyRate = rows.find((r) => r.name.startsWith('device copy')).tesseraRate;
console.log(`bandwidth ceiling (device copy, same run): ${copyRate.toFixed(0)} GB/s; elementwise and reductions as a share of it:`);
for (const r of rows.filter((q) => q.unit === 'GB/s' && !q.name.startsWith('device copy'))) console.log(`  ${r.name}: ${(100 * r.tesseraRate / copyRate).toFixed(0)}%`);
for (const m of models) {
  console.log(`${m.name}: tessera-cuda ${m['tessera-cuda'].toFixed(2)} ms, tessera-cpu ${m['tessera-cpu'].toFixed(2)} ms, cpu/cuda ${m.ratio.toFixed(1)}x`);
}

mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', `cuda-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), device: d, torch, torchError, runtime: runtimeInfo(), rows, models }, null, 1));
console.log(`wrote ${file}`);
