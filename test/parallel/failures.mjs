// Failure cases under `tessera launch` (driven by test/parallel/mpi.test.ts):
//   mismatch  ranks that disagree on a collective all fail with one clear message, and the
//             communicator stays usable
//   invalid   invalid arguments are refused on the calling rank before anything is sent
//             (only rank 0 makes them; a valid collective afterwards proves nothing moved)
//   killed    the last rank dies (SIGKILL); the others fail within their timeout naming it
//   absent    the last rank never calls a collective; the others' first call fails in time
// Prints `rank R ok: <case>` or `rank R FAIL: <case>: <why>` lines; exits 1 on a failure
// (killed: survivors exit 3 after printing the error they got).
import * as tf from '@tensorflow/tfjs-core';

import { array, world } from '../../dist/index.js';

const mode = process.argv[2];
const P = world.size;
const R = world.rank;
let failed = false;

function ok(label) {
  console.log(`rank ${R} ok: ${label}`);
}
function fail(label, why) {
  failed = true;
  console.log(`rank ${R} FAIL: ${label}: ${why}`);
}

async function expectError(label, f, pattern) {
  try {
    await f();
    fail(label, 'no error');
  } catch (e) {
    if (pattern.test(e.message)) ok(`${label} -> ${e.message}`);
    else fail(label, `unexpected message: ${e.message}`);
  }
}

async function stillWorks(label) {
  const y = await world.allReduce(new Int32Array([R]), 'sum');
  if (y[0] === (P * (P - 1)) / 2) ok(`${label}: a valid allReduce afterwards`);
  else fail(label, `allReduce afterwards gave ${y[0]}`);
}

const last = P - 1;

if (mode === 'mismatch') {
  const n = R === last ? 5 : 4;
  await expectError('shapes differ', () => world.allReduce(new Float32Array(n), 'sum'),
    new RegExp(`ranks disagree: rank 0 called allReduce\\(sum\\) of float32 \\[4\\].*rank ${last} called allReduce\\(sum\\) of float32 \\[5\\]`));
  await stillWorks('shapes differ');
  await expectError('dtypes differ', () => world.allGather(R === last ? new Int32Array(3) : new Float32Array(3)),
    new RegExp(`ranks disagree: rank 0 called allGather of float32 \\[3\\].*rank ${last} called allGather of int32 \\[3\\]`));
  await expectError('ops differ', () => world.allReduce(new Float32Array(2), R === last ? 'max' : 'sum'),
    new RegExp(`rank ${last} called allReduce\\(max\\)`));
  await expectError('algorithms differ', () => world.allReduce(new Float32Array(2), 'sum', { algorithm: R === last ? 'ring' : 'mpi' }),
    new RegExp(`rank ${last} called allReduce\\(sum\\) of float32 \\[2\\] \\(ring\\)`));
  await expectError('collectives differ', () => (R === last ? world.broadcast(new Float32Array(2), 0) : world.allReduce(new Float32Array(2))),
    new RegExp(`rank ${last} called broadcast\\(root 0\\)`));
  await expectError('tensor shapes differ', () => world.reduceScatter(tf.zeros(R === last ? [2, 3] : [3, 2])),
    /ranks disagree: rank 0 called reduceScatter\(sum\) of float32 \[3,2\]/);
  await stillWorks('after every mismatch');
} else if (mode === 'invalid') {
  if (R === 0) {
    const x = new Float32Array(4);
    const cases = [
      ['unknown op', () => world.allReduce(x, 'avg'), /allReduce: expected one of sum, mean, max, min, prod for op but got 'avg'/],
      ['mean of int32', () => world.allReduce(new Int32Array(2), 'mean'), /allReduce: expected float32 for mean for x.dtype but got 'int32'/],
      ['wrong algorithm', () => world.allReduce(x, 'sum', { algorithm: 'tree' }), /allReduce: expected one of auto, mpi, ring, recursive-doubling, mpi-blocking for algorithm but got 'tree'/],
      ['root out of range', () => world.broadcast(x, P), new RegExp(`broadcast: expected a rank in \\[0, ${P}\\) for root but got ${P}`)],
      ['dest out of range', () => world.send(x, -1), /send: expected a rank in \[0, \d+\) for dest but got -1/],
      ['tag out of range', () => world.send(x, 1, { tag: 99999 }), /send: expected an integer in \[0, 16383\] for tag but got 99999/],
      ['bad timeout', () => world.barrier({ timeoutMs: -1 }), /barrier: expected a positive number of milliseconds for timeoutMs but got -1/],
      ['not a tensor', () => world.allGather('abc'), /allGather: expected a tensor, a DeviceArray, or a Float32Array, Int32Array or Uint8Array for x but got 'abc'/],
      ['string tensor', () => world.allReduce(tf.tensor(['a'])), /allReduce: expected float32, int32 or bool for x.dtype but got 'string'/],
      ['disposed array', () => { const a = array([1, 2]); a.dispose(); return world.allReduce(a); }, /allReduce: expected a live DeviceArray for x but got a disposed DeviceArray/],
      ['bad split color', () => world.split(-2), /split: expected a non-negative integer or null for color but got -2/],
      ['bad recv kind', () => world.recv(0, { as: 'json' }), /recv: expected 'tensor', 'array' or 'typed' for as but got 'json'/],
    ];
    for (const [label, f, pattern] of cases) await expectError(label, f, pattern);
  }
  await stillWorks('after invalid calls on rank 0 only');
} else if (mode === 'killed') {
  world.timeoutMs = Number(process.argv[3] ?? 3000);
  await world.allReduce(new Float32Array(1000), 'sum', { algorithm: 'ring' });
  if (R === last) process.kill(process.pid, 'SIGKILL');
  const t0 = Date.now();
  try {
    await world.allReduce(new Float32Array(1 << 20), 'sum', { algorithm: 'ring' });
    fail('killed rank', 'no error');
  } catch (e) {
    console.log(`rank ${R} got after ${Date.now() - t0} ms: ${e.message}`);
  }
  // A broken communicator refuses further work at once.
  await expectError('after the failure', () => world.allReduce(new Float32Array(4)), /the communicator is broken by an earlier failure/);
  process.exitCode = 3;
} else if (mode === 'absent') {
  // The last rank never makes a collective call (so never starts MPI): MPI_Init waits for it,
  // on MPI's own thread, and the others' first call fails within its timeout.
  if (R === last) {
    await new Promise((r) => setTimeout(r, Number(process.argv[3] ?? 3000) + 3000));
  } else {
    const t0 = Date.now();
    try {
      await world.allReduce(new Float32Array(4), 'sum', { timeoutMs: Number(process.argv[3] ?? 3000) });
      fail('absent rank', 'no error');
    } catch (e) {
      console.log(`rank ${R} got after ${Date.now() - t0} ms: ${e.message}`);
    }
    process.exitCode = 3;
  }
} else {
  console.log(`usage: failures.mjs mismatch|invalid|killed|absent [timeoutMs]`);
  process.exitCode = 2;
}
if (failed) process.exitCode = 1;
