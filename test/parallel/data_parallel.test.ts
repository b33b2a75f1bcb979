// DataParallel on one rank (no launcher): it must train exactly as plain tfjs does, and its
// checkpoints must survive a crash while writing. The multi-rank tests are in
// data_parallel_mpi.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import * as tfdata from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import '../../src/index.js';
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint, writeCheckpoint } from '../../src/parallel/checkpoint.js';
import { DataParallel, planBuckets } from '../../src/parallel/data_parallel.js';
import { world } from '../../src/parallel/world.js';
import { rng } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-dp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function data(n: number, features: number, classes: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const r = rng(seed);
  const labels = Int32Array.from({ length: n }, () => Math.floor(r() * classes));
  return {
    x: tf.tensor2d(Float32Array.from({ length: n * features }, () => r() * 2 - 1), [n, features]),
    y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32') as tf.Tensor2D),
  };
}

function mlp(optimizer: tf.Optimizer, extra: tfl.layers.Layer[] = []): tfl.Sequential {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      ...extra,
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  m.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function weights(m: tfl.LayersModel): Float32Array[] {
  return m.getWeights().map((t) => t.dataSync() as Float32Array);
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((w, i) => w.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j])))));
  return d;
}

describe('DataParallel on one rank', () => {
  it('runs on the single-rank engine without a launcher', () => {
    expect(world.size).toBe(1);
    expect(world.rank).toBe(0);
  });

  for (const [name, make] of [['SGD', () => tf.train.sgd(0.1)], ['Adam', () => tf.train.adam(0.01)]] as const) {
    it(`fit trains exactly as model.fit (${name}, 2 epochs, no shuffle)`, async () => {
      const { x, y } = data(64, 6, 3, 1);
      const plain = mlp(make()), wrapped = mlp(make());
      const h1 = await plain.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
      const dp = new DataParallel(wrapped);
      const h2 = await dp.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
      expect(maxAbsDiff(weights(plain), weights(wrapped))).toBe(0);
      expect(h2.history.loss[1]).toBeCloseTo(h1.history.loss[1] as number, 5);
      expect(h2.history.acc[1]).toBeCloseTo(h1.history.acc[1] as number, 5);
      expect(dp.stepCount).toBe(8);
      tf.dispose([x, y]);
    });
  }

  it('does not leak tensors per step', async () => {
    const { x, y } = data(64, 6, 3, 2);
    const dp = new DataParallel(mlp(tf.train.adam(0.01)), { bucketBytes: 64 });
    await dp.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    const before = tf.memory().numTensors;
    await dp.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, accumulationSteps: 2, validationData: [x, y] });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });

  it('step with 2 micro-batches equals one step on both (gradient accumulation)', async () => {
    const { x, y } = data(16, 6, 3, 3);
    const a = mlp(tf.train.sgd(0.1)), b = mlp(tf.train.sgd(0.1));
    const dpA = new DataParallel(a), dpB = new DataParallel(b);
    await dpA.step({ xs: [x], ys: [y] });
    const halves = [0, 8].map((s) => ({ xs: [tf.slice(x, s, 8)], ys: [tf.slice(y, s, 8)] }));
    const r = await dpB.step(...halves);
    expect(maxAbsDiff(weights(a), weights(b))).toBeLessThan(1e-6);
    expect(Object.keys(r.metrics)).toEqual(['acc']);
    tf.dispose([x, y, ...halves.flatMap((h) => [...h.xs, ...h.ys])]);
  });

  it('step with a custom loss equals optimizer.minimize', async () => {
    const { x, y } = data(16, 6, 3, 4);
    const init = tf.randomNormal([6, 3], 0, 0.3, 'float32', 5);
    const w1 = tf.variable(init.clone()), w2 = tf.variable(init.clone());
    const loss = (w: tf.Variable) => () => tf.losses.softmaxCrossEntropy(y, tf.matMul(x, w)) as tf.Scalar;
    const opt1 = tf.train.adam(0.05), opt2 = tf.train.adam(0.05);
    const dp = new DataParallel({ variables: [w2], optimizer: opt2, loss: () => loss(w2)() });
    for (let i = 0; i < 3; i++) {
      opt1.minimize(loss(w1), false, [w1]);
      const r = await dp.step(null);
      expect(Number.isFinite(r.loss)).toBe(true);
    }
    expect(maxAbsDiff([w1.dataSync() as Float32Array], [w2.dataSync() as Float32Array])).toBe(0);
    tf.dispose([x, y, init, w1, w2]);
    opt1.dispose();
    opt2.dispose();
  });

  it('fitDataset over a tf.data-like data set equals fit over the same batches', async () => {
    const { x, y } = data(48, 6, 3, 6);
    const a = mlp(tf.train.adam(0.01)), b = mlp(tf.train.adam(0.01));
    await new DataParallel(a).fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    // The shape of a tf.data.Dataset: iterator() gives a fresh iterator per epoch.
    const dataset = {
      iterator: async () => {
        let i = 0;
        return {
          next: async (): Promise<IteratorResult<{ xs: tf.Tensor; ys: tf.Tensor }>> =>
            i >= 48 ? { done: true, value: undefined } : { done: false, value: { xs: tf.slice(x, (i += 8) - 8, 8), ys: tf.slice(y, i - 8, 8) } },
        };
      },
    };
    const h = await new DataParallel(b).fitDataset(dataset, { epochs: 2, verbose: 0, validationData: dataset });
    expect(maxAbsDiff(weights(a), weights(b))).toBe(0);
    expect(h.history.val_loss).toHaveLength(2);
    tf.dispose([x, y]);
  });

  it('fitDataset over a real tf.data dataset (zip, batch) equals fit over the same batches', async () => {
    const { x, y } = data(48, 6, 3, 16);
    const a = mlp(tf.train.adam(0.01)), b = mlp(tf.train.adam(0.01));
    await new DataParallel(a).fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    const rows = (t: tf.Tensor) => (t.arraySync() as number[][]);
    const dataset = tfdata.zip({ xs: tfdata.array(rows(x)), ys: tfdata.array(rows(y)) }).batch(8);
    const h = await new DataParallel(b).fitDataset(dataset as never, { epochs: 2, verbose: 0, validationData: dataset as never });
    expect(maxAbsDiff(weights(a), weights(b))).toBeLessThan(1e-6);
    expect(h.history.loss).toHaveLength(2);
    expect(h.history.val_loss).toHaveLength(2);
    tf.dispose([x, y]);
  });

  it('evaluate matches model.evaluate', async () => {
    const { x, y } = data(50, 6, 3, 7);
    const m = mlp(tf.train.sgd(0.1));
    const [loss, acc] = m.evaluate(x, y, { batchSize: 16 }) as tf.Scalar[];
    const r = await new DataParallel(m).evaluate(x, y, { batchSize: 16 });
    expect(r.loss).toBeCloseTo(loss.dataSync()[0], 5);
    expect(r.acc).toBeCloseTo(acc.dataSync()[0], 5);
    tf.dispose([x, y, loss, acc]);
  });

  it('callbacks see the logs, and stopTraining ends fit', async () => {
    const { x, y } = data(64, 6, 3, 8);
    const m = mlp(tf.train.sgd(0.1));
    const seen: string[] = [];
    await new DataParallel(m).fit(x, y, {
      epochs: 5, batchSize: 16, verbose: 0,
      callbacks: {
        onEpochEnd: (epoch, logs) => {
          seen.push(`epoch ${epoch} ${Object.keys(logs ?? {}).join(',')}`);
          if (epoch === 1) m.stopTraining = true;
        },
      },
    });
    expect(seen).toEqual(['epoch 0 loss,acc', 'epoch 1 loss,acc']);
    tf.dispose([x, y]);
  });

  it('global batch: globalBatchSize on one rank is batchSize', async () => {
    const { x, y } = data(32, 6, 3, 9);
    const a = mlp(tf.train.sgd(0.1)), b = mlp(tf.train.sgd(0.1));
    await new DataParallel(a).fit(x, y, { batchSize: 8, seed: 1, verbose: 0 });
    await new DataParallel(b).fit(x, y, { globalBatchSize: 8, seed: 1, verbose: 0 });
    expect(maxAbsDiff(weights(a), weights(b))).toBe(0);
    await expect(new DataParallel(b).fit(x, y, { batchSize: 8, globalBatchSize: 8 })).rejects.toThrow(/not both/);
    await expect(new DataParallel(b).fit(x, y, { batchSize: 64 })).rejects.toThrow(/do not fill one global batch/);
    tf.dispose([x, y]);
  });

  it('rejects an uncompiled model and a custom spec without an optimizer', () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 1 })] });
    expect(() => new DataParallel(m)).toThrow(/must be compiled/);
    expect(() => new DataParallel({ loss: () => tf.scalar(0) } as never)).toThrow(/expected a compiled tfjs-layers model or/);
    m.dispose();
  });

  it('planBuckets fills buckets to the cap in order', () => {
    expect(planBuckets([10, 10, 10], 80)).toEqual([[0, 1], [2]]);
    expect(planBuckets([100, 1, 1], 80)).toEqual([[0], [1, 2]]);
    expect(planBuckets([1, 2, 3], 25 * 1024 * 1024)).toEqual([[0, 1, 2]]);
  });
});

describe('checkpoints', () => {
  it('save, train on, load: weights, Adam state and position come back, and training continues identically', async () => {
    const { x, y } = data(64, 6, 3, 10);
    const path = join(dir, 'a.ckpt');
    const m = mlp(tf.train.adam(0.01), [tfl.layers.batchNormalization()]);
    const dp = new DataParallel(m);
    await dp.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0, checkpoint: { path } });
    const saved = weights(m);
    await dp.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    const afterOneMore = weights(m);
    expect(maxAbsDiff(saved, afterOneMore)).toBeGreaterThan(0);
    const pos = await dp.loadCheckpoint(path);
    expect(pos).toMatchObject({ step: 4, epoch: 1, stepInEpoch: 0, globalBatchSize: 16 });
    expect(dp.stepCount).toBe(4);
    expect(maxAbsDiff(saved, weights(m))).toBe(0);
    await dp.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    expect(maxAbsDiff(afterOneMore, weights(m))).toBe(0);
    const c = readCheckpoint(path)!;
    expect(c.tensors.filter((t) => t.group === 'weights')).toHaveLength(m.weights.length);
    expect(c.tensors.filter((t) => t.group === 'optimizer').length).toBeGreaterThan(1);
    tf.dispose([x, y]);
  });

  it('fit with resume continues an interrupted run at its data position', async () => {
    const { x, y } = data(64, 6, 3, 11);
    const path = join(dir, 'resume.ckpt');
    const full = mlp(tf.train.adam(0.01));
    await new DataParallel(full).fit(x, y, { epochs: 3, batchSize: 16, seed: 4, verbose: 0 });
    const first = mlp(tf.train.adam(0.01));
    const interrupted = new DataParallel(first);
    // Stops after step 7 (mid-epoch 2); stopping saves its position too.
    await interrupted.fit(x, y, {
      epochs: 3, batchSize: 16, seed: 4, verbose: 0, checkpoint: { path, everySteps: 3 },
      callbacks: { onBatchEnd: () => { if (interrupted.stepCount === 7) first.stopTraining = true; } },
    });
    expect(readCheckpoint(path)!.position).toMatchObject({ step: 7, epoch: 1, stepInEpoch: 3 });
    const resumed = mlp(tf.train.adam(0.01));
    const dp = new DataParallel(resumed);
    await dp.fit(x, y, { epochs: 3, batchSize: 16, seed: 4, verbose: 0, checkpoint: { path }, resume: true });
    expect(dp.stepCount).toBe(12);
    expect(maxAbsDiff(weights(full), weights(resumed))).toBe(0);
    await expect(new DataParallel(mlp(tf.train.adam(0.01))).fit(x, y, { batchSize: 8, checkpoint: { path }, resume: true, verbose: 0 }))
      .rejects.toThrow(/global batch of 16 samples but this run has 8/);
    tf.dispose([x, y]);
  });

  it('a missing checkpoint loads as null; a damaged one is refused', async () => {
    const dp = new DataParallel(mlp(tf.train.sgd(0.1)));
    expect(await dp.loadCheckpoint(join(dir, 'none.ckpt'))).toBeNull();
    const chunks = encodeCheckpoint({ position: { step: 1, epoch: 0, stepInEpoch: 1 }, worldSize: 1, tensors: [{ group: 'weights', name: 'w', shape: [3], dtype: 'float32', values: Float32Array.from([1, 2, 3]) }] });
    const bytes = Buffer.concat(chunks);
    expect(decodeCheckpoint(bytes, 'x').tensors[0].values).toEqual(Float32Array.from([1, 2, 3]));
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 2), 'x')).toThrow(/truncated or damaged/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] ^= 1;
    expect(() => decodeCheckpoint(flipped, 'x')).toThrow(/CRC-32/);
    writeFileSync(join(dir, 'junk.ckpt'), 'hello');
    await expect(dp.loadCheckpoint(join(dir, 'junk.ckpt'))).rejects.toThrow(/not a Tessera checkpoint/);
  });

  it('a process killed while writing leaves the previous checkpoint intact', async () => {
    const path = join(dir, 'crash.ckpt');
    const big = new Float32Array(4 << 20);
    writeCheckpoint(path, { position: { step: 0, epoch: 0, stepInEpoch: 0 }, worldSize: 1, tensors: [{ group: 'weights', name: 'w', shape: [big.length], dtype: 'float32', values: big }] });
    // A child rewrites a 16 MiB checkpoint in a loop (step 1, 2, ...) until it is SIGKILLed mid-write.
    const script = `
      import { writeCheckpoint } from ${JSON.stringify(new URL('../../dist/parallel/checkpoint.js', import.meta.url).href)};
      const v = new Float32Array(${big.length});
      for (let step = 1; ; step++) {
        v.fill(step);
        if (step === 2) console.log('writing');
        writeCheckpoint(${JSON.stringify(path)}, { position: { step, epoch: 0, stepInEpoch: step }, worldSize: 1, tensors: [{ group: 'weights', name: 'w', shape: [v.length], dtype: 'float32', values: v }] });
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    await new Promise((r) => setTimeout(r, 30 + Math.random() * 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const c = readCheckpoint(path)!;
    const step = c.position.step;
    expect(step).toBeGreaterThanOrEqual(1);
    const values = c.tensors[0].values as Float32Array;
    expect(values.length).toBe(big.length);
    expect(values[0]).toBe(step);
    expect(values[values.length - 1]).toBe(step);
    expect(readFileSync(path).length).toBeGreaterThan(big.byteLength);
  });
});
