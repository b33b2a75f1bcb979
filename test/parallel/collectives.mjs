// Every collective, reduction op, dtype and algorithm against a reference computed locally
// (each rank can compute every rank's input: they are functions of rank and index), under
// `tessera launch -n N` (test/parallel/mpi.test.ts runs it at N = 2 and 4). Prints one line
// per failure and a summary; exits 1 on any failure.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { drainBufferPool } from '../../dist/device/buffer_pool.js';
import { array, native, world } from '../../dist/index.js';

const P = world.size;
const R = world.rank;
let checks = 0;
const failures = [];

function valueAt(rank, i, dtype, op, seed) {
  if (dtype === 'bool') return (i * 7 + rank * 3 + seed) % 5 < 2 ? 1 : 0;
  if (op === 'prod') return [1, 2, -1][(i * 7 + rank + seed) % 3];
  return ((i * 31 + rank * 17 + seed) % 201) - 100;
}

function inputFor(rank, n, dtype, op, seed) {
  const a = dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = valueAt(rank, i, dtype, op, seed);
  return a;
}

function combine(op, dtype, a, b) {
  if (dtype === 'bool') return op === 'sum' || op === 'max' ? (a || b ? 1 : 0) : a && b ? 1 : 0;
  switch (op) {
    case 'sum': case 'mean': return dtype === 'int32' ? (a + b) | 0 : Math.fround(a + b);
    case 'prod': return dtype === 'int32' ? Math.imul(a, b) : Math.fround(a * b);
    case 'max': return Math.max(a, b);
    case 'min': return Math.min(a, b);
  }
  throw new Error(op);
}

function reduced(n, dtype, op, seed) {
  const out = inputFor(0, n, dtype, op, seed);
  for (let r = 1; r < P; r++) {
    const x = inputFor(r, n, dtype, op, seed);
    for (let i = 0; i < n; i++) out[i] = combine(op, dtype, out[i], x[i]);
  }
  if (op === 'mean') for (let i = 0; i < n; i++) out[i] = Math.fround(out[i] / P);
  return out;
}

function check(label, actual, expected) {
  checks++;
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual.data ?? actual;
  if (a.length !== expected.length) {
    failures.push(`${label}: length ${a.length}, expected ${expected.length}`);
    return;
  }
  for (let i = 0; i < expected.length; i++) {
    if (a[i] !== expected[i] && !(Number.isNaN(a[i]) && Number.isNaN(expected[i]))) {
      failures.push(`${label}: [${i}] = ${a[i]}, expected ${expected[i]}`);
      return;
    }
  }
}

function dispose(x) {
  if (x instanceof tf.Tensor) x.dispose();
  else if (x?.dispose) x.dispose();
  else if (ArrayBuffer.isView(x) && x.length > 0) native.release(x);
}

const SIZES = [0, 1, Math.max(1, P - 1), 7, 1001, 65537];
const LARGE = (1 << 20) + 3; // 4 MB of float32, not divisible by 2 or 4
const DTYPES = ['float32', 'int32', 'bool'];
const OPS = ['sum', 'mean', 'max', 'min', 'prod'];
let seed = 0;

async function allReduceMatrix() {
  for (const algorithm of ['mpi', 'ring', 'recursive-doubling', 'auto']) {
    for (const n of SIZES) {
      for (const dtype of DTYPES) {
        for (const op of OPS) {
          if (op === 'mean' && dtype !== 'float32') continue;
          seed++;
          const x = inputFor(R, n, dtype, op, seed);
          const y = await world.allReduce(x, op, { algorithm });
          check(`allReduce(${op}) ${dtype} n=${n} ${algorithm}`, y, reduced(n, dtype, op, seed));
          dispose(y);
        }
      }
    }
    seed++;
    const big = inputFor(R, LARGE, 'float32', 'sum', seed);
    const y = await world.allReduce(big, 'sum', { algorithm });
    check(`allReduce(sum) float32 n=${LARGE} ${algorithm}`, y, reduced(LARGE, 'float32', 'sum', seed));
    dispose(y);
  }
  seed++;
  const bigInt = inputFor(R, LARGE, 'int32', 'max', seed);
  const viaRing = await world.allReduce(bigInt, 'max', { algorithm: 'ring' });
  const viaMpi = await world.allReduce(bigInt, 'max', { algorithm: 'mpi' });
  check(`allReduce(max) int32 n=${LARGE} ring against mpi`, viaRing, viaMpi);
  dispose(viaRing);
  dispose(viaMpi);
}

async function broadcastMatrix() {
  for (const algorithm of ['mpi', 'tree', 'auto']) {
    for (const root of [0, P - 1]) {
      for (const n of [...SIZES, LARGE]) {
        for (const dtype of DTYPES) {
          seed++;
          const x = R === root ? inputFor(R, n, dtype, 'sum', seed) : new (dtype === 'float32' ? Float32Array : dtype === 'int32' ? Int32Array : Uint8Array)(n);
          const y = await world.broadcast(x, root, { algorithm });
          check(`broadcast(root ${root}) ${dtype} n=${n} ${algorithm}`, y, inputFor(root, n, dtype, 'sum', seed));
          dispose(y);
        }
      }
    }
  }
}

async function allGatherMatrix() {
  for (const algorithm of ['mpi', 'ring', 'auto']) {
    for (const n of [...SIZES, LARGE >> 2]) {
      for (const dtype of DTYPES) {
        seed++;
        const y = await world.allGather(inputFor(R, n, dtype, 'sum', seed), { algorithm });
        const expected = new Float64Array(n * P);
        for (let r = 0; r < P; r++) expected.set(inputFor(r, n, dtype, 'sum', seed), r * n);
        check(`allGather ${dtype} n=${n} ${algorithm}`, y, expected);
        dispose(y);
      }
    }
  }
}

async function reduceScatterMatrix() {
  for (const algorithm of ['mpi', 'ring', 'auto']) {
    // Rows of 3 elements: row counts below, at and above the world size, and not divisible by it.
    for (const rows of [0, 1, P - 1, P, 2 * P + 1, 4099, (LARGE >> 4) + 1]) {
      for (const dtype of DTYPES) {
        for (const op of OPS) {
          if (op === 'mean' && dtype !== 'float32') continue;
          if (rows > 5000 && (dtype !== 'float32' || op !== 'sum')) continue;
          seed++;
          const n = rows * 3;
          const x = array(inputFor(R, n, dtype, op, seed), [rows, 3], dtype);
          const y = await world.reduceScatter(x, op, { algorithm });
          const full = reduced(n, dtype, op, seed);
          const q = Math.floor(rows / P), rem = rows % P;
          const first = R * q + Math.min(R, rem), mine = q + (R < rem ? 1 : 0);
          const label = `reduceScatter(${op}) ${dtype} [${rows}, 3] ${algorithm}`;
          if (y.shape[0] !== mine || y.shape[1] !== 3) failures.push(`${label}: shape [${y.shape}], expected [${mine}, 3]`);
          check(label, y, full.slice(first * 3, (first + mine) * 3));
          x.dispose();
          y.dispose();
        }
      }
    }
  }
}

async function tensorKinds() {
  // tessera-cpu tensors (native storage, no copy), tfjs-backend-cpu tensors (read and copied back).
  for (const backend of ['tessera-cpu', 'cpu']) {
    await tf.setBackend(backend);
    seed++;
    const x = tf.tensor(Array.from(inputFor(R, 12, 'float32', 'sum', seed)), [3, 4]);
    const y = await world.allReduce(x, 'mean', { algorithm: 'ring' });
    if (y.shape.join() !== '3,4' || y.dtype !== 'float32') failures.push(`allReduce on ${backend}: shape ${y.shape} ${y.dtype}`);
    check(`allReduce(mean) tensor on ${backend}`, y, reduced(12, 'float32', 'mean', seed));
    // The input may be disposed while the call is in flight.
    const z = tf.tensor(Array.from(inputFor(R, 5, 'int32', 'sum', seed)), [5], 'int32');
    const pending = world.allGather(z);
    z.dispose();
    const g = await pending;
    const expected = new Float64Array(5 * P);
    for (let r = 0; r < P; r++) expected.set(inputFor(r, 5, 'int32', 'sum', seed), r * 5);
    check(`allGather tensor disposed in flight on ${backend}`, g, expected);
    if (g.shape[0] !== 5 * P) failures.push(`allGather on ${backend}: shape ${g.shape}`);
    const scalar = tf.scalar(R, 'int32');
    const s = await world.allGather(scalar);
    check(`allGather of scalars on ${backend}`, s, Array.from({ length: P }, (_, r) => r));
    const flags = tf.tensor([[R, R + 1]], [1, 2], 'bool');
    const b = await world.broadcast(flags, P - 1);
    check(`broadcast bool tensor on ${backend}`, b, [P > 1 ? 1 : 0, 1]);
    for (const t of [x, y, g, s, b, scalar, flags]) t.dispose();
  }
  await tf.setBackend('tessera-cpu');
}

async function pointToPoint() {
  const right = (R + 1) % P, left = (R - 1 + P) % P;
  const shapes = [[0], [3, 2], [LARGE]];
  for (const [k, shape] of shapes.entries()) {
    for (const dtype of DTYPES) {
      seed++;
      const n = shape.reduce((a, b) => a * b, 1);
      const x = array(inputFor(R, n, dtype, 'sum', seed), shape, dtype);
      const sent = world.send(x, right, { tag: k });
      const m = await world.recv(left, { tag: k });
      await sent;
      x.dispose();
      if (m.shape.join() !== shape.join() || m.dtype !== dtype) failures.push(`send/recv ${dtype} [${shape}]: got [${m.shape}] ${m.dtype}`);
      check(`send/recv ${dtype} [${shape}]`, m, inputFor(left, n, dtype, 'sum', seed));
      m.dispose();
    }
  }
  // Several messages in flight on two tags arrive in order per tag.
  const sends = [];
  for (let i = 0; i < 4; i++) sends.push(world.send(new Int32Array([R * 100 + i]), right, { tag: 10 + (i % 2) }));
  const got = [];
  for (let i = 0; i < 4; i++) {
    const m = await world.recv(left, { tag: 10 + (i % 2), as: 'typed' });
    got.push(m[0]);
    dispose(m);
  }
  await Promise.all(sends);
  check('send/recv ordering by tag', got, [0, 1, 2, 3].map((i) => left * 100 + i));
}

async function splitAndBarrier() {
  await world.barrier();
  const sub = await world.split(R % 2, -R);
  const members = Array.from({ length: P }, (_, r) => r).filter((r) => r % 2 === R % 2);
  if (sub.size !== members.length) failures.push(`split: size ${sub.size}, expected ${members.length}`);
  // key -rank orders the group backwards.
  const expectedRank = members.length - 1 - members.indexOf(R);
  if (sub.rank !== expectedRank) failures.push(`split: rank ${sub.rank}, expected ${expectedRank}`);
  const s = await sub.allReduce(new Int32Array([R]), 'sum', { algorithm: 'ring' });
  check('allReduce in a split communicator', s, [members.reduce((a, b) => a + b, 0)]);
  const g = await sub.allGather(new Int32Array([R]));
  check('allGather in a split communicator (key order)', g, [...members].reverse());
  dispose(s);
  dispose(g);
  sub.free();
  const none = await world.split(R === 0 ? null : 1);
  if (R === 0 && none !== null) failures.push('split with a null color should give null');
  if (R !== 0 && none.size !== P - 1) failures.push(`split without rank 0: size ${none?.size}`);
  none?.free();
}

async function concurrency() {
  // Calls made without awaiting reach the engine in call order on every rank.
  seed++;
  const xs = [1, 2, 3, 4].map((k) => inputFor(R, 100 * k, 'float32', 'sum', seed + k));
  const ys = await Promise.all(xs.map((x, k) => (k % 2 ? world.allReduce(x, 'sum', { algorithm: 'ring' }) : world.allGather(x))));
  ys.forEach((y, k) => {
    if (k % 2) check(`concurrent allReduce ${k}`, y, reduced(100 * (k + 1), 'float32', 'sum', seed + k + 1));
    else {
      const expected = new Float64Array(100 * (k + 1) * P);
      for (let r = 0; r < P; r++) expected.set(inputFor(r, 100 * (k + 1), 'float32', 'sum', seed + k + 1), r * 100 * (k + 1));
      check(`concurrent allGather ${k}`, y, expected);
    }
    dispose(y);
  });
  seed += 10;
}

const t0 = performance.now();
await tf.ready();
drainBufferPool();
const liveBefore = native.bufferStats().liveBuffers;
const tensorsBefore = tf.memory().numTensors;
for (const [name, f] of Object.entries({ allReduceMatrix, broadcastMatrix, allGatherMatrix, reduceScatterMatrix, tensorKinds, pointToPoint, splitAndBarrier, concurrency })) {
  const t = performance.now();
  try {
    await f();
  } catch (e) {
    failures.push(`${name}: threw ${e.stack}`);
  }
  if (R === 0) console.log(`${name}: ${((performance.now() - t) / 1000).toFixed(2)} s`);
}
drainBufferPool();
const leaked = native.bufferStats().liveBuffers - liveBefore;
if (tf.memory().numTensors !== tensorsBefore) failures.push(`${tf.memory().numTensors - tensorsBefore} tensors still live`);
if (leaked > 0) failures.push(`${leaked} native buffers still live`);
for (const f of failures.slice(0, 20)) console.log(`rank ${R} FAIL ${f}`);
console.log(`rank ${R} of ${P}: ${checks} checks, ${failures.length} failures, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = failures.length ? 1 : 0;
