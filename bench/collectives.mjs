// Collectives bench: Tessera's algorithms beside the MPI library's own collectives, in the
// same run. Run it with `tessera launch -n N bench/collectives.mjs [--quick]`.
//
// Figures as nccl-tests defines them (https://github.com/NVIDIA/nccl-tests/blob/master/doc/PERFORMANCE.md):
//   algbw = S / t    S: the message size in bytes (allGather: the gathered output; reduceScatter: the input)
//   busbw = algbw * 2(n-1)/n   for allReduce
//   busbw = algbw * (n-1)/n    for allGather and reduceScatter
// t is, per repeat, the slowest rank's time for one call (after a barrier); the table shows
// the median over repeats. Every call goes through the Communicator (float32 typed arrays):
// the header exchange, the copy into a fresh output and its allocation are in every
// algorithm's time alike.
//
// Algorithms: ring and recursive-doubling are Tessera's (native/comm/algorithms.cc);
// mpi is MPI_Iallreduce etc. polled by Tessera's progress thread (what algorithm 'mpi' runs);
// mpi-blocking is MPI_Allreduce etc. (the library's tuned blocking collective: no timeout).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

import { native, world } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const P = world.size;
const R = world.rank;
const KB = 1024, MB = 1024 * 1024;

const ALLREDUCE_SIZES = quick ? [4 * KB, 1 * MB, 16 * MB] : [4 * KB, 16 * KB, 64 * KB, 256 * KB, 1 * MB, 4 * MB, 16 * MB, 64 * MB];
const GATHER_SIZES = quick ? [1 * MB] : [64 * KB, 1 * MB, 16 * MB];

const cases = [];
for (const bytes of ALLREDUCE_SIZES) for (const algorithm of ['ring', 'recursive-doubling', 'mpi', 'mpi-blocking']) cases.push({ op: 'allReduce', bytes, algorithm });
for (const op of ['allGather', 'reduceScatter']) for (const bytes of GATHER_SIZES) for (const algorithm of ['ring', 'mpi', 'mpi-blocking']) cases.push({ op, bytes, algorithm });

function repeats(bytes) {
  // About 64 MB moved per point, within [5, 50] repeats.
  return Math.max(5, Math.min(50, Math.round((64 * MB) / bytes)));
}

async function once(c, x) {
  switch (c.op) {
    case 'allReduce': return world.allReduce(x, 'sum', { algorithm: c.algorithm });
    case 'allGather': return world.allGather(x, { algorithm: c.algorithm });
    case 'reduceScatter': return world.reduceScatter(x, 'sum', { algorithm: c.algorithm });
  }
  throw new Error(c.op);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const factor = (op) => (op === 'allReduce' ? (2 * (P - 1)) / P : (P - 1) / P);

const rows = [];
for (const c of cases) {
  // allGather's S is the gathered output: each rank contributes S / P.
  const elems = Math.max(1, Math.floor((c.op === 'allGather' ? c.bytes / P : c.bytes) / 4));
  const x = native.alloc('float32', elems);
  x.fill(1);
  const reps = repeats(c.bytes);
  const times = new Float32Array(reps);
  for (let i = -2; i < reps; i++) {
    await world.barrier();
    const t0 = performance.now();
    const y = await once(c, x);
    const t = performance.now() - t0;
    if (i >= 0) times[i] = t;
    if (y.length > 0) native.release(y);
  }
  native.release(x);
  const slowest = await world.allReduce(times, 'max', { algorithm: 'mpi' });
  const ms = median(Array.from(slowest));
  native.release(slowest);
  const algbw = c.bytes / (ms / 1000) / 1e9;
  rows.push({ ...c, np: P, repeats: reps, medianMs: ms, algbwGBs: algbw, busbwGBs: algbw * factor(c.op) });
  if (R === 0) {
    const r = rows[rows.length - 1];
    console.log(`${c.op.padEnd(13)} ${fmtBytes(c.bytes).padStart(6)} ${c.algorithm.padEnd(18)} ${ms.toFixed(3).padStart(9)} ms  algbw ${algbw.toFixed(2).padStart(6)} GB/s  busbw ${r.busbwGBs.toFixed(2).padStart(6)} GB/s`);
  }
}

function fmtBytes(b) {
  return b >= MB ? `${b / MB} MB` : `${b / KB} KB`;
}

if (R === 0) {
  const info = native.commInfo();
  const lines = [
    `## Collectives at -n ${P}`,
    '',
    `- **Command:** \`tessera launch -n ${P} bench/collectives.mjs${quick ? ' --quick' : ''}\``,
    `- **Machine:** ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores${P > cpus().length ? ` (oversubscribed: ${P} ranks, each with a JS thread and a progress thread)` : ''}; ${info.library ?? 'MPI'} over shared memory (vader, CMA single copy); mpirun's default binding`,
    `- **Formulas:** algbw = S / t; busbw = algbw * 2(n-1)/n (allReduce), algbw * (n-1)/n (allGather, reduceScatter); t = median over repeats of the slowest rank's time`,
    `- **Ring vs MPI:** the last column is Tessera ring busbw / busbw of that row (above 1: the ring is faster)`,
    '',
    '| op | size | algorithm | median ms | algbw GB/s | busbw GB/s | ring / this |',
    '|---|---:|---|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ring = rows.find((q) => q.op === r.op && q.bytes === r.bytes && q.algorithm === 'ring');
    const ratio = r.algorithm === 'ring' ? '' : `${(ring.busbwGBs / r.busbwGBs).toFixed(2)}x`;
    lines.push(`| ${r.op} | ${fmtBytes(r.bytes)} | ${r.algorithm} | ${r.medianMs.toFixed(3)} | ${r.algbwGBs.toFixed(2)} | ${r.busbwGBs.toFixed(2)} | ${ratio} |`);
  }
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`collectives-np${P}.md`, dir), `${lines.join('\n')}\n`);
  writeFileSync(new URL(`collectives-np${P}.json`, dir), JSON.stringify({ np: P, library: info.library, date: new Date().toISOString(), rows }, null, 2));
  console.log(`\n${lines.join('\n')}\n\nwrote bench/results/collectives-np${P}.md and .json`);
}
