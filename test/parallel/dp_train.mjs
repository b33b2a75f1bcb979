// The multi-rank half of test/parallel/data_parallel*.test.ts, run by `tessera launch -n N`
// (or plain `node` for 1 rank). Rank 0 writes what the test compares as JSON to --out.
//
//   equivalence: MLP and convnet, SGD and Adam, through fit (per-rank batchSize and
//     globalBatchSize, small buckets), and a custom loss through step() with 2 micro-batches;
//     the same global batch of 16 at any rank count. Ranks other than 0 start from different
//     weights, so the broadcast from rank 0 is tested too.
//   fault: fit with a checkpoint every 2 steps; --kill-rank R --kill-step K makes rank R
//     SIGKILL itself after step K; --resume continues from the checkpoint.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { writeFileSync } from 'node:fs';

import { DataParallel, world } from '../../dist/index.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const mode = opt('--mode', 'equivalence');
const out = opt('--out');
const rank = world.rank, size = world.size;
const GLOBAL_BATCH = 16;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function data(n, shape, classes, seed) {
  const r = rng(seed);
  const features = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * features }, () => r() * 2 - 1);
  const labels = Int32Array.from({ length: n }, () => Math.floor(r() * classes));
  return { x: tf.tensor(x, [n, ...shape]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), classes).cast('float32') };
}

// Ranks other than 0 draw different initial weights: only the broadcast makes them equal.
const seedFor = (s) => s + 1000 * rank;

function mlp(optimizer) {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [12], units: 16, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: seedFor(1) }), biasInitializer: tfl.initializers.randomUniform({ seed: seedFor(2), minval: -0.1, maxval: 0.1 }) }),
      tfl.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seedFor(3) }) }),
    ],
  });
  m.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function convnet(optimizer) {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: seedFor(4) }) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seedFor(5) }) }),
    ],
  });
  m.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

const optimizers = { sgd: () => tf.train.sgd(0.1), adam: () => tf.train.adam(0.01) };

async function weightsOf(vars) {
  return Promise.all(vars.map(async (v) => Array.from(await v.data())));
}

async function equivalence() {
  const results = {};
  const mlpData = data(96, [12], 4, 7);
  const convData = data(96, [8, 8, 1], 3, 8);
  for (const [name, build, d, fitOptions, dpOptions] of [
    ['mlp', mlp, mlpData, { batchSize: GLOBAL_BATCH / size }, {}],
    ['conv', convnet, convData, { globalBatchSize: GLOBAL_BATCH }, { bucketBytes: 256 }],
  ]) {
    for (const o of ['sgd', 'adam']) {
      const model = build(optimizers[o]());
      const dp = new DataParallel(model, dpOptions);
      const h = await dp.fit(d.x, d.y, { epochs: 1, seed: 3, verbose: 0, ...fitOptions });
      results[`${name}-${o}`] = { weights: await weightsOf(model.weights.map((w) => w.read())), loss: h.history.loss, steps: dp.stepCount };
    }
  }
  // A custom loss with the step API: 2 micro-batches per step, from this rank's shard.
  const r = rng(seedFor(11));
  const init = (shape) => tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 0.5), shape));
  const vars = [init([12, 8]), init([8]), init([8, 4]), init([4])];
  const dp = new DataParallel({
    variables: vars,
    optimizer: tf.train.adam(0.01),
    loss: ({ x, y }) => {
      const logits = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, vars[0]), vars[1])), vars[2]), vars[3]);
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32'));
      return { loss: tf.losses.softmaxCrossEntropy(y, logits), metrics: { accuracy } };
    },
  }, { bucketBytes: 64 });
  const losses = [];
  for (let s = 0; s < 96 / GLOBAL_BATCH; s++) {
    const { x, y } = tf.tidy(() => {
      const gx = tf.slice(mlpData.x, s * GLOBAL_BATCH, GLOBAL_BATCH), gy = tf.slice(mlpData.y, s * GLOBAL_BATCH, GLOBAL_BATCH);
      return { x: dp.shard(gx), y: dp.shard(gy) };
    });
    const half = x.shape[0] / 2;
    const micro = [0, 1].map((k) => ({ x: tf.slice(x, k * half, half), y: tf.slice(y, k * half, half) }));
    const res = await dp.step(...micro);
    losses.push(res.loss);
    tf.dispose([x, y, ...micro.flatMap((m) => [m.x, m.y])]);
  }
  results['custom-adam-accumulate'] = { weights: await weightsOf(vars), loss: losses, steps: dp.stepCount };
  return results;
}

async function fault() {
  const ckpt = opt('--ckpt');
  const killRank = Number(opt('--kill-rank', -1)), killStep = Number(opt('--kill-step', -1));
  const d = data(96, [12], 4, 7);
  const model = mlp(tf.train.adam(0.01));
  const dp = new DataParallel(model, { timeoutMs: Number(opt('--timeout-ms', 120000)) });
  await dp.fit(d.x, d.y, {
    epochs: 2, globalBatchSize: GLOBAL_BATCH, seed: 3, verbose: 0,
    checkpoint: { path: ckpt, everySteps: 2 },
    resume: args.includes('--resume'),
    callbacks: {
      onBatchEnd: () => {
        if (rank === killRank && dp.stepCount === killStep) {
          console.error(`rank ${rank}: killing myself after step ${killStep}`);
          process.kill(process.pid, 'SIGKILL');
        }
      },
    },
  });
  return { weights: await weightsOf(model.weights.map((w) => w.read())), steps: dp.stepCount };
}

// buffers: a model with batch normalization, fit on each rank's own shard; every rank
// reports its moving statistics (rank 0 writes them all, gathered). With broadcastBuffers
// (the default) they must be equal on every rank; --no-broadcast turns it off.
async function buffers() {
  const d = data(64, [12], 4, 9);
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [12], units: 8, kernelInitializer: tfl.initializers.glorotUniform({ seed: seedFor(21) }) }),
      tfl.layers.batchNormalization({ momentum: 0.5 }),
      tfl.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seedFor(22) }) }),
    ],
  });
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const dp = new DataParallel(m, { broadcastBuffers: !args.includes('--no-broadcast') });
  await dp.fit(d.x, d.y, { epochs: 1, batchSize: 8, seed: 4, verbose: 0 });
  const trainable = new Set(m.trainableWeights.map((w) => w.read()));
  const stats = m.weights.map((w) => w.read()).filter((v) => !trainable.has(v));
  const mine = tf.concat(stats.map((v) => tf.reshape(v, [-1])));
  const all = await world.allGather(tf.reshape(mine, [1, -1]));
  return { ranks: all.arraySync(), steps: dp.stepCount };
}

const result = mode === 'fault' ? await fault() : mode === 'buffers' ? await buffers() : await equivalence();
if (rank === 0 && out) writeFileSync(out, JSON.stringify({ size, ...result }));
