// The single-rank engine (a script without a launcher is rank 0 of 1, MPI untouched), the
// Communicator's argument checks, and the launcher's argument handling: no MPI needed.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { array, Communicator, world } from '../../src/index.js';
import { blockOf, SingleRankEngine } from '../../src/parallel/index.js';
import { mpirunArguments, parseLaunchArgs } from '../../src/parallel/launch.js';
import { launchEnvironment } from '../../src/parallel/world.js';
import { native } from '../../src/native.js';
import { checkLeaks } from '../helpers.js';

checkLeaks();

describe('world without a launcher', () => {
  it('is rank 0 of 1 on the single-rank engine, and MPI stays uninitialized', async () => {
    expect(world.rank).toBe(0);
    expect(world.size).toBe(1);
    expect(world.engineName).toBe('single');
    await world.barrier();
    expect(world.engineName).toBe('single');
    if (native.commInfo().mpi) expect(native.commInfo().initialized).toBe(false);
  });
});

describe('single-rank collectives', () => {
  const comm = new Communicator(new SingleRankEngine());

  it('allReduce is the identity for every op, mean included, and returns a new value of the same kind', async () => {
    for (const op of ['sum', 'mean', 'max', 'min', 'prod'] as const) {
      const x = new Float32Array([1.5, -2, 3]);
      const y = await comm.allReduce(x, op);
      expect(y).toBeInstanceOf(Float32Array);
      expect(y).not.toBe(x);
      expect(Array.from(y)).toEqual([1.5, -2, 3]);
      native.release(y);
    }
    const b = await comm.allReduce(new Uint8Array([1, 0]), 'prod');
    expect(Array.from(b)).toEqual([1, 0]);
    native.release(b);
  });

  it('works on tensors and DeviceArrays, keeping shape and dtype', async () => {
    const t = tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32');
    const r = await comm.allReduce(t, 'max');
    expect(r.shape).toEqual([2, 2]);
    expect(r.dtype).toBe('int32');
    expect(Array.from(r.dataSync())).toEqual([1, 2, 3, 4]);
    const a = array([5, 6, 7], [3, 1]);
    const g = await comm.allGather(a);
    expect(g.shape).toEqual([3, 1]);
    expect(Array.from(g.data)).toEqual([5, 6, 7]);
    const nine = tf.scalar(9);
    const s = await comm.allGather(nine);
    expect(s.shape).toEqual([1]);
    nine.dispose();
    const rs = await comm.reduceScatter(a, 'sum');
    expect(rs.shape).toEqual([3, 1]);
    const bc = await comm.broadcast(a, 0);
    expect(Array.from(bc.data)).toEqual([5, 6, 7]);
    for (const x of [t, r, s]) x.dispose();
    for (const x of [a, g, rs, bc]) x.dispose();
  });

  it('send to itself, then recv, returns the message; a recv with no sender times out', async () => {
    const sent = array([1, 2, 3, 4], [2, 2], 'int32');
    await comm.send(sent, 0, { tag: 5 });
    sent.dispose();
    const m = await comm.recv(0, { tag: 5, as: 'array' });
    expect(m.shape).toEqual([2, 2]);
    expect(m.dtype).toBe('int32');
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4]);
    m.dispose();
    await expect(comm.recv(0, { tag: 6, timeoutMs: 20 })).rejects.toThrow('recv: timed out after 0.02 s waiting for rank 0 to send (tag 6)');
  });

  it('split gives a communicator for a color and null without one', async () => {
    const sub = await comm.split(3);
    expect(sub?.size).toBe(1);
    expect(await comm.split(null)).toBeNull();
  });

  it('refuses invalid arguments before anything moves', async () => {
    const x = new Float32Array(2);
    await expect(comm.allReduce(x, 'avg' as never)).rejects.toThrow("allReduce: expected one of sum, mean, max, min, prod for op but got 'avg'");
    await expect(comm.allReduce(new Int32Array(2), 'mean')).rejects.toThrow("allReduce: expected float32 for mean for x.dtype but got 'int32'");
    await expect(comm.broadcast(x, 1)).rejects.toThrow('broadcast: expected a rank in [0, 1) for root but got 1');
    await expect(comm.allGather(x, { algorithm: 'recursive-doubling' })).rejects.toThrow("allGather: expected one of auto, mpi, ring, mpi-blocking for algorithm but got 'recursive-doubling'");
    await expect(comm.allReduce([1, 2] as never)).rejects.toThrow('allReduce: expected a tensor, a DeviceArray, or a Float32Array, Int32Array or Uint8Array for x but got an array');
    await expect(comm.send(x, 0, { tag: -1 })).rejects.toThrow('send: expected an integer in [0, 16383] for tag but got -1');
    await expect(comm.barrier({ timeoutMs: 0 })).rejects.toThrow('barrier: expected a positive number of milliseconds for timeoutMs but got 0');
    const freed = new Communicator(new SingleRankEngine());
    freed.free();
    await expect(freed.barrier()).rejects.toThrow('barrier: the communicator was freed');
  });
});

describe('helpers', () => {
  it('blockOf splits rows as numpy array_split', () => {
    expect([0, 1, 2].map((r) => blockOf([7, 2], 3, r))).toEqual([
      { shape: [3, 2], offset: 0, length: 6 },
      { shape: [2, 2], offset: 6, length: 4 },
      { shape: [2, 2], offset: 10, length: 4 },
    ]);
    expect(blockOf([], 2, 1)).toEqual({ shape: [0], offset: 1, length: 0 });
  });

  it('launchEnvironment reads the launcher variables', () => {
    expect(launchEnvironment({ OMPI_COMM_WORLD_RANK: '2', OMPI_COMM_WORLD_SIZE: '4' })).toMatchObject({ rank: 2, size: 4 });
    expect(launchEnvironment({ PMI_RANK: '0', PMI_SIZE: '2' })).toMatchObject({ rank: 0, size: 2, launcher: 'MPICH / Hydra' });
    expect(launchEnvironment({})).toEqual({ rank: 0, size: 1, launcher: null });
  });

  it('tessera launch parses its options and builds the mpirun command', () => {
    const o = parseLaunchArgs(['-n', '64', '--mpirun-arg=--bind-to', '--mpirun-arg', 'none', 'train.js', '--epochs', '3']);
    expect(o).toMatchObject({ np: 64, script: 'train.js', args: ['--epochs', '3'], mpirunArgs: ['--bind-to', 'none'] });
    const args = mpirunArguments(o, { PATH: '/bin', TESSERA_X: '1', HOME: '/root' });
    expect(args.slice(0, 2)).toEqual(['-np', '64']);
    expect(args).toContain('--oversubscribe');
    expect(args).toContain('--enable-recovery');
    expect(args.join(' ')).toContain('-x PATH -x TESSERA_X --bind-to none');
    expect(args).not.toContain('HOME');
    expect(args.includes('--allow-run-as-root')).toBe(process.getuid?.() === 0);
    expect(mpirunArguments(parseLaunchArgs(['--hostfile', 'hosts', '-n', '64', 'a.js']), {})).not.toContain('--oversubscribe');
    expect(() => parseLaunchArgs(['a.js'])).toThrow('tessera launch: expected -n N (the number of ranks)');
    expect(() => parseLaunchArgs(['-n', 'two', 'a.js'])).toThrow("tessera launch: expected a positive integer for -n but got 'two'");
    expect(() => parseLaunchArgs(['-n', '2'])).toThrow('tessera launch: expected a script to run');
  });
});
