// The bench cases: each builds its inputs for the active tfjs backend and returns the
// function to time plus the work it does, from which the derived figure is computed. A case's
// `peers` build the same computation, on the same inputs, for the peers outside tfjs (see
// peers.mjs); `result` gives the output in tfjs's layout so the bench can check that every
// peer computed the same thing as tessera-cpu.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { initializer, model as onnxModel, node, value } from './onnx.mjs';

const seeded = (shape, seed) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** The values `seeded` gives, as a Float32Array (tfjs-core draws them, whatever the backend). */
function values(shape, seed) {
  const t = seeded(shape, seed);
  const data = Float32Array.from(t.dataSync());
  t.dispose();
  return data;
}

/** A `result` for a tfjs case: runs the op once and reads its output. */
// Async, so that GPU backends without synchronous reads (tfjs-backend-webgpu in Node) work.
const readOnce = (op) => async () => {
  const t = op();
  const data = Float32Array.from(await t.data());
  t.dispose();
  return data;
};

const ortOptions = (threads) => ({ intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });

/** An onnxruntime-node peer: a session over `graph`, timed on session.run with fixed feeds. */
async function ortPeer({ ort, threads }, graph, feeds, read) {
  const session = await ort.InferenceSession.create(await onnxModel(graph), ortOptions(threads));
  const tensors = Object.fromEntries(Object.entries(feeds).map(([name, [data, dims]]) => [name, new ort.Tensor('float32', data, dims)]));
  const output = graph.outputs[0].name;
  return {
    async: true,
    run: () => session.run(tensors),
    result: async () => read((await session.run(tensors))[output].data),
    dispose: () => session.release(),
  };
}

function permute(data, dims, order) {
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const outDims = order.map((i) => dims[i]);
  const out = new Float32Array(data.length);
  const index = new Array(dims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < order.length; d++) src += index[d] * strides[order[d]];
    out[o] = data[src];
    for (let d = order.length - 1; d >= 0 && ++index[d] === outDims[d]; d--) index[d] = 0;
  }
  return out;
}
const nhwcToNchw = (data, [n, h, w, c]) => permute(data, [n, h, w, c], [0, 3, 1, 2]);
const nchwToNhwc = (data, [n, c, h, w]) => permute(data, [n, c, h, w], [0, 2, 3, 1]);
const hwioToOihw = (data, [h, w, i, o]) => permute(data, [h, w, i, o], [3, 2, 0, 1]);

function matMulCase(n, skip) {
  return {
    name: `matMul ${n}x${n}x${n}`,
    unit: 'GFLOP/s',
    formula: '2*n^3 / t',
    work: 2 * n ** 3 / 1e9,
    skip,
    setup() {
      const a = seeded([n, n], 1);
      const b = seeded([n, n], 2);
      return { run: () => tf.matMul(a, b).dispose(), result: readOnce(() => tf.matMul(a, b)), dispose: () => tf.dispose([a, b]) };
    },
    peers: {
      openblas({ addon }) {
        const a = values([n, n], 1);
        const b = values([n, n], 2);
        const c = new Float32Array(n * n);
        const run = () => addon.sgemm(n, n, n, a, b, c);
        return { detail: 'cblas_sgemm', run, result: () => (run(), c), dispose() {} };
      },
      // Both operands are graph inputs, as they are for tf.matMul: nothing is pre-packed.
      onnxruntime: (ctx) =>
        ortPeer(
          ctx,
          { nodes: [node('MatMul', ['a', 'b'], ['c'])], inputs: [value('a', [n, n]), value('b', [n, n])], outputs: [value('c', [n, n])] },
          { a: [values([n, n], 1), [n, n]], b: [values([n, n], 2), [n, n]] },
          (c) => c,
        ),
    },
  };
}

/** The convnet of the inference case; the seeds fix its weights, so every build is the same. */
function convnet() {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

/** A bandwidth-probe peer: a STREAM-style loop over the case's working set. */
const probe = (detail, make) => (ctx) => ({ detail, dispose() {}, ...make(ctx.addon) });

export const CASES = [
  matMulCase(256),
  matMulCase(512),
  matMulCase(1024),
  matMulCase(2048, { cpu: 'tfjs-backend-cpu runs near 1-2 GFLOP/s, so 5 samples of a 17 GFLOP product would take minutes' }),
  {
    name: 'conv2d 1x56x56x64 -> 64, 3x3 same',
    unit: 'GFLOP/s',
    formula: '2*N*OH*OW*OC*KH*KW*IC / t',
    work: (2 * 56 * 56 * 64 * 3 * 3 * 64) / 1e9,
    setup() {
      const x = seeded([1, 56, 56, 64], 3);
      const w = seeded([3, 3, 64, 64], 4);
      return { run: () => tf.conv2d(x, w, 1, 'same').dispose(), result: readOnce(() => tf.conv2d(x, w, 1, 'same')), dispose: () => tf.dispose([x, w]) };
    },
    peers: {
      // ONNX Conv is NCHW: the input is transposed once, outside the timing, and the filter
      // is an initializer, as it is in any ONNX model (the session may pre-pack it).
      onnxruntime: (ctx) =>
        ortPeer(
          ctx,
          {
            nodes: [node('Conv', ['x', 'w'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] })],
            inputs: [value('x', [1, 64, 56, 56])],
            outputs: [value('y', [1, 64, 56, 56])],
            initializers: [initializer('w', [64, 64, 3, 3], hwioToOihw(values([3, 3, 64, 64], 4), [3, 3, 64, 64]))],
          },
          { x: [nhwcToNchw(values([1, 56, 56, 64], 3), [1, 56, 56, 64]), [1, 64, 56, 56]] },
          (y) => nchwToNhwc(y, [1, 64, 56, 56]),
        ),
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
      return { run: () => tf.add(a, b).dispose(), result: readOnce(() => tf.add(a, b)), dispose: () => tf.dispose([a, b]) };
    },
    peers: {
      // With s = 1 the triad is the same sum, over the same 12 MB.
      bandwidth: probe('triad a = b + s*c', (addon) => {
        const out = new Float32Array(2 ** 20);
        const a = values([2 ** 20], 5);
        const b = values([2 ** 20], 6);
        const run = () => addon.triad(out, a, b, 1);
        return { run, result: () => (run(), out) };
      }),
    },
  },
  {
    name: 'relu 1M float32',
    unit: 'GB/s',
    formula: '2 * 4 B * 1M / t',
    work: (2 * 4 * 2 ** 20) / 1e9,
    setup() {
      const a = seeded([2 ** 20], 7);
      return { run: () => tf.relu(a).dispose(), result: readOnce(() => tf.relu(a)), dispose: () => a.dispose() };
    },
    peers: {
      bandwidth: probe('copy dst = src', (addon) => {
        const dst = new Float32Array(2 ** 20);
        const src = values([2 ** 20], 7);
        return { run: () => addon.copy(dst, src) };
      }),
    },
  },
  {
    name: 'softmax 1024x1024',
    unit: 'GB/s',
    formula: '2 * 4 B * 1M / t',
    work: (2 * 4 * 2 ** 20) / 1e9,
    setup() {
      const a = seeded([1024, 1024], 8);
      return { run: () => tf.softmax(a).dispose(), result: readOnce(() => tf.softmax(a)), dispose: () => a.dispose() };
    },
    peers: {
      onnxruntime: (ctx) =>
        ortPeer(
          ctx,
          { nodes: [node('Softmax', ['x'], ['y'], { axis: -1 })], inputs: [value('x', [1024, 1024])], outputs: [value('y', [1024, 1024])] },
          { x: [values([1024, 1024], 8), [1024, 1024]] },
          (y) => y,
        ),
    },
  },
  {
    name: 'sum 4M float32',
    unit: 'GB/s',
    formula: '4 B * 4M / t',
    work: (4 * 4 * 2 ** 20) / 1e9,
    setup() {
      const a = seeded([4 * 2 ** 20], 9);
      return { run: () => tf.sum(a).dispose(), result: readOnce(() => tf.sum(a)), dispose: () => a.dispose() };
    },
    peers: {
      bandwidth: probe('sum-reduce', (addon) => {
        const a = values([4 * 2 ** 20], 9);
        return { run: () => addon.sum(a), result: () => Float32Array.of(addon.sum(a)) };
      }),
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
      const model = convnet();
      const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 12);
      // batchSize 64: one batch of 64, as the onnxruntime peer runs it (predict's default of
      // 32 would run two batches of 32 and concatenate them).
      return {
        run: () => tf.dispose(model.predict(x, { batchSize: 64 })),
        result: readOnce(() => model.predict(x, { batchSize: 64 })),
        dispose: () => {
          x.dispose();
          model.dispose();
        },
      };
    },
    peers: {
      // The same layers with the same weights, in ONNX's NCHW layout: with one channel the
      // input bytes are the same; the dense rows are reordered from HWC to CHW flattening.
      onnxruntime(ctx) {
        const model = convnet();
        const [k1, b1, k2, b2, k3, b3] = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
        model.dispose();
        const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 12);
        const input = Float32Array.from(x.dataSync());
        x.dispose();
        return ortPeer(
          ctx,
          {
            nodes: [
              node('Conv', ['x', 'k1', 'b1'], ['c1'], { kernel_shape: [3, 3] }),
              node('Relu', ['c1'], ['r1']),
              node('MaxPool', ['r1'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2] }),
              node('Conv', ['p1', 'k2', 'b2'], ['c2'], { kernel_shape: [3, 3] }),
              node('Relu', ['c2'], ['r2']),
              node('MaxPool', ['r2'], ['p2'], { kernel_shape: [2, 2], strides: [2, 2] }),
              node('Flatten', ['p2'], ['f'], { axis: 1 }),
              node('Gemm', ['f', 'k3', 'b3'], ['d']),
              node('Softmax', ['d'], ['y'], { axis: -1 }),
            ],
            inputs: [value('x', [64, 1, 28, 28])],
            outputs: [value('y', [64, 10])],
            initializers: [
              initializer('k1', [32, 1, 3, 3], hwioToOihw(k1, [3, 3, 1, 32])),
              initializer('b1', [32], b1),
              initializer('k2', [64, 32, 3, 3], hwioToOihw(k2, [3, 3, 32, 64])),
              initializer('b2', [64], b2),
              initializer('k3', [1600, 10], permute(k3, [5, 5, 64, 10], [2, 0, 1, 3])),
              initializer('b3', [10], b3),
            ],
          },
          { x: [input, [64, 1, 28, 28]] },
          (y) => y,
        );
      },
    },
  },
];
