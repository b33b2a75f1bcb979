// The bench cases: each builds its inputs for the active backend and returns the function
// to time plus the work it does, from which the derived figure is computed.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const seeded = (shape, seed) => tf.randomUniform(shape, -1, 1, 'float32', seed);

function matMulCase(n) {
  return {
    name: `matMul ${n}x${n}x${n}`,
    unit: 'GFLOP/s',
    formula: '2*n^3 / t',
    work: 2 * n ** 3 / 1e9,
    setup() {
      const a = seeded([n, n], 1);
      const b = seeded([n, n], 2);
      return { run: () => tf.matMul(a, b).dispose(), dispose: () => tf.dispose([a, b]) };
    },
  };
}

export const CASES = [
  matMulCase(256),
  matMulCase(512),
  matMulCase(1024),
  {
    name: 'conv2d 1x56x56x64 -> 64, 3x3 same',
    unit: 'GFLOP/s',
    formula: '2*N*OH*OW*OC*KH*KW*IC / t',
    work: (2 * 56 * 56 * 64 * 3 * 3 * 64) / 1e9,
    setup() {
      const x = seeded([1, 56, 56, 64], 3);
      const w = seeded([3, 3, 64, 64], 4);
      return { run: () => tf.conv2d(x, w, 1, 'same').dispose(), dispose: () => tf.dispose([x, w]) };
    },
  },
  {
    name: 'add 1M float32',
    unit: 'GB/s',
    formula: '3 * 4 B * 1M / t (2 reads, 1 write)',
    work: (3 * 4 * 2 ** 20) / 1e9,
    setup() {
      const a = seeded([2 ** 20], 5);
      const b = seeded([2 ** 20], 6);
      return { run: () => tf.add(a, b).dispose(), dispose: () => tf.dispose([a, b]) };
    },
  },
  {
    name: 'relu 1M float32',
    unit: 'GB/s',
    formula: '2 * 4 B * 1M / t',
    work: (2 * 4 * 2 ** 20) / 1e9,
    setup() {
      const a = seeded([2 ** 20], 7);
      return { run: () => tf.relu(a).dispose(), dispose: () => a.dispose() };
    },
  },
  {
    name: 'softmax 1024x1024',
    unit: 'GB/s',
    formula: '2 * 4 B * 1M / t',
    work: (2 * 4 * 2 ** 20) / 1e9,
    setup() {
      const a = seeded([1024, 1024], 8);
      return { run: () => tf.softmax(a).dispose(), dispose: () => a.dispose() };
    },
  },
  {
    name: 'sum 4M float32',
    unit: 'GB/s',
    formula: '4 B * 4M / t',
    work: (4 * 4 * 2 ** 20) / 1e9,
    setup() {
      const a = seeded([4 * 2 ** 20], 9);
      return { run: () => tf.sum(a).dispose(), dispose: () => a.dispose() };
    },
  },
  {
    name: '100 tiny adds ([4] + [4])',
    unit: 'µs/op',
    formula: 't / 100 ops',
    work: 100,
    perOp: true,
    setup() {
      const a = tf.tensor1d([1, 2, 3, 4]);
      const b = tf.tensor1d([5, 6, 7, 8]);
      return {
        run: () => {
          for (let i = 0; i < 100; i++) tf.add(a, b).dispose();
        },
        dispose: () => tf.dispose([a, b]),
      };
    },
  },
  {
    name: 'MLP 784-256-10 train step, batch 128',
    unit: 'steps/s',
    formula: '1 / t',
    work: 1,
    async: true,
    setup() {
      const model = tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
          tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
      const x = tf.randomUniform([128, 784], 0, 1, 'float32', 10);
      const y = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32', 11), 10);
      const yf = tf.cast(y, 'float32');
      return {
        run: () => model.trainOnBatch(x, yf),
        dispose: () => {
          tf.dispose([x, y, yf]);
          model.dispose();
        },
      };
    },
  },
  {
    name: 'convnet inference, batch 64 (28x28x1)',
    unit: 'images/s',
    formula: '64 / t',
    work: 64,
    setup() {
      const model = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
          tfl.layers.maxPooling2d({ poolSize: 2 }),
          tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
          tfl.layers.maxPooling2d({ poolSize: 2 }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
        ],
      });
      const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 12);
      return {
        run: () => tf.dispose(model.predict(x)),
        dispose: () => {
          x.dispose();
          model.dispose();
        },
      };
    },
  },
];
