#!/usr/bin/env node
// The main job: trains a 784-256-10 MLP on real MNIST with tfjs-layers on tessera-cpu,
// then times the same training steps on tfjs-backend-cpu (the peer), and prints both
// throughputs side by side with the test accuracy reached.
//
// usage: npm start [-- --epochs N --batch B --peer-steps S]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '../dist/index.js';
import { loadMnist } from './mnist.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const epochs = option('--epochs', 5);
const batchSize = option('--batch', 128);
const peerSteps = option('--peer-steps', 30);

function buildModel() {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function toTensors({ images, labels, count }, n = count) {
  return tf.tidy(() => ({
    x: tf.tensor2d(images.subarray(0, n * 784), [n, 784]),
    y: tf.cast(tf.oneHot(tf.tensor1d(labels.subarray(0, n), 'int32'), 10), 'float32'),
  }));
}

/** Trains for `steps` batches (or `epochs` epochs) and returns images per second. */
async function train(backend, data, { epochs: e, steps }) {
  await tf.setBackend(backend);
  const model = buildModel();
  const n = steps ? steps * batchSize : data.count;
  const { x, y } = toTensors(data, n);
  // One warm-up step so one-time costs (kernel setup, first allocations) are not timed.
  const [wx, wy] = [tf.slice(x, 0, batchSize), tf.slice(y, 0, batchSize)];
  await model.fit(wx, wy, { epochs: 1, batchSize, verbose: 0 });
  tf.dispose([wx, wy]);
  const start = performance.now();
  let seen = 0;
  await model.fit(x, y, {
    epochs: e ?? 1,
    batchSize,
    shuffle: true,
    verbose: 0,
    callbacks: {
      onEpochEnd: (epoch, logs) => {
        if (!steps) console.log(`  ${backend} epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}, accuracy ${logs.acc.toFixed(4)}`);
      },
      onBatchEnd: () => {
        seen += batchSize;
      },
    },
  });
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  return { model, imagesPerSecond: Math.min(seen, n * (e ?? 1)) / seconds, seconds };
}

const trainSet = loadMnist('train');
const testSet = loadMnist('test');
console.log(`MNIST: ${trainSet.count} training and ${testSet.count} test images; MLP 784-256-10, Adam, batch ${batchSize}`);

const ours = await train('tessera-cpu', trainSet, { epochs });
const test = toTensors(testSet);
const [, accuracy] = ours.model.evaluate(test.x, test.y, { batchSize: 1000 });
const testAccuracy = (await accuracy.data())[0];
tf.dispose([test.x, test.y]);

console.log(`timing ${peerSteps} steps on tfjs-backend-cpu (the peer) ...`);
const peer = await train('cpu', trainSet, { steps: peerSteps });

const row = (name, r) => `${name.padEnd(18)} ${r.imagesPerSecond.toFixed(0).padStart(10)} images/s`;
console.log('\ntraining throughput (images/s = images trained / wall seconds, warm-up excluded)');
console.log(row('tessera-cpu', ours));
console.log(row('tfjs-backend-cpu', peer));
console.log(`speed-up: ${(ours.imagesPerSecond / peer.imagesPerSecond).toFixed(1)}x; test accuracy after ${epochs} epochs on tessera-cpu: ${(testAccuracy * 100).toFixed(2)}%`);
