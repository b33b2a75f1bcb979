// Times the native reduce family against its scalar reference and tfjs-backend-cpu.
// usage: node bench/reduce.mjs   (after building the addon)
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const addon = require('../build/Release/tessera.node');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
await tf.setBackend('cpu');

function time(fn, reps = 5) {
  fn();
  const t = [];
  for (let i = 0; i < reps; i++) { const s = process.hrtime.bigint(); fn(); t.push(Number(process.hrtime.bigint() - s) / 1e6); }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}
function rand(n) { const a = addon.alloc('float32', n); for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1; return a; }
const cases = [
  ['Sum', [1 << 22], [0]],
  ['Sum', [4096, 1024], [1]],
  ['Sum', [4096, 1024], [0]],
  ['Sum', [65536, 64], [0]],
  ['Sum', [64, 256, 256], [0, 2]],
  ['Mean', [4096, 1024], [1]],
  ['Max', [4096, 1024], [1]],
  ['Max', [4096, 1024], [0]],
  ['ArgMax', [4096, 1024], [1]],
  ['Prod', [4096, 1024], [1]],
];
for (const [op, shape, axes] of cases) {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = rand(n);
  const outShape = shape.filter((_, i) => !axes.includes(i));
  const out = addon.alloc(op === 'ArgMax' ? 'int32' : 'float32', outShape.reduce((a, b) => a * b, 1));
  const tn = time(() => addon.reduce(op, x, shape, axes, out));
  const tr = time(() => addon.reduceRef(op, x, shape, axes, out), 1);
  const t = tf.tensor(Float32Array.from(x), shape);
  const fn = { Sum: tf.sum, Mean: tf.mean, Max: tf.max, ArgMax: (a, ax) => tf.argMax(a, ax[0]), Prod: tf.prod }[op];
  const tj = time(() => tf.tidy(() => fn(t, axes).dataSync()), 3);
  t.dispose();
  console.log(`${op.padEnd(6)} [${shape}] axes [${axes}]: native ${tn.toFixed(2)} ms (${(n / tn / 1e6).toFixed(2)} G elem/s), ref ${tr.toFixed(1)} ms, tfjs-cpu ${tj.toFixed(1)} ms, speedup ${(tj / tn).toFixed(1)}x`);
}
{
  const shape = [4096, 1000]; const n = shape[0] * shape[1];
  const x = rand(n); const out = addon.alloc('float32', n);
  const tn = time(() => addon.softmax(x, shape, out));
  const t = tf.tensor(Float32Array.from(x), shape);
  const tj = time(() => tf.tidy(() => tf.softmax(t).dataSync()), 3);
  console.log(`Softmax [${shape}]: native ${tn.toFixed(2)} ms (${(n / tn / 1e6).toFixed(2)} G elem/s), tfjs-cpu ${tj.toFixed(1)} ms, speedup ${(tj / tn).toFixed(1)}x`);
  for (const axis of [0, 1]) {
    const tc = time(() => addon.scan('Cumsum', x, shape, axis, false, false, out));
    const tjc = time(() => tf.tidy(() => tf.cumsum(t, axis).dataSync()), 3);
    console.log(`Cumsum [${shape}] axis ${axis}: native ${tc.toFixed(2)} ms, tfjs-cpu ${tjc.toFixed(1)} ms, speedup ${(tjc / tc).toFixed(1)}x`);
  }
  const vals = addon.alloc('float32', 4096 * 10), idx = addon.alloc('int32', 4096 * 10);
  const tk = time(() => addon.topK(x, shape, 10, true, vals, idx));
  const tjk = time(() => tf.tidy(() => { const r = tf.topk(t, 10); r.values.dataSync(); r.indices.dataSync(); }), 3);
  console.log(`TopK [${shape}] k 10: native ${tk.toFixed(2)} ms, tfjs-cpu ${tjk.toFixed(1)} ms, speedup ${(tjk / tk).toFixed(1)}x`);
}
