#!/usr/bin/env node
// Convolution throughput through tfjs on a backend: GFLOP/s = 2*N*OH*OW*OC*KH*KW*IC / time.
// usage: npx tsc -p tsconfig.json && node bench/conv.mjs [--backend tessera-cpu|cpu] [--iters N]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const backend = option('--backend', 'tessera-cpu');
const iters = Number(option('--iters', '10'));
await tf.setBackend(backend);

const layers = [
  // [name, x shape, filter shape, strides, pad, kind]
  ['conv2d 1x56x56x64 -> 64 3x3 same', [1, 56, 56, 64], [3, 3, 64, 64], 1, 'same', 'conv'],
  ['conv2d 1x56x56x64 -> 256 1x1', [1, 56, 56, 64], [1, 1, 64, 256], 1, 'valid', 'conv'],
  ['conv2d 8x28x28x128 -> 128 3x3 same', [8, 28, 28, 128], [3, 3, 128, 128], 1, 'same', 'conv'],
  ['depthwise 1x112x112x32 x1 3x3 same', [1, 112, 112, 32], [3, 3, 32, 1], 1, 'same', 'depthwise'],
];

function flops(xShape, fShape, outShape, kind) {
  const [n, oh, ow, oc] = outShape;
  const [kh, kw, ic] = fShape;
  return kind === 'depthwise' ? 2 * n * oh * ow * oc * kh * kw : 2 * n * oh * ow * oc * kh * kw * ic;
}

for (const [name, xShape, fShape, strides, pad, kind] of layers) {
  const x = tf.randomUniform(xShape, -1, 1);
  const f = tf.randomUniform(fShape, -1, 1);
  const run = () => (kind === 'depthwise' ? tf.depthwiseConv2d(x, f, strides, pad) : tf.conv2d(x, f, strides, pad));
  const warm = run();
  const outShape = warm.shape;
  warm.dataSync();
  warm.dispose();
  const times = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    const y = run();
    y.dataSync();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    y.dispose();
  }
  times.sort((a, b) => a - b);
  const best = times[0];
  const median = times[Math.floor(times.length / 2)];
  const gflop = flops(xShape, fShape, outShape, kind) / 1e9;
  console.log(`${backend} ${name}: median ${(median * 1e3).toFixed(2)} ms (${(gflop / median).toFixed(2)} GFLOP/s), ` +
    `best ${(best * 1e3).toFixed(2)} ms (${(gflop / best).toFixed(2)} GFLOP/s)`);
  x.dispose();
  f.dispose();
}
