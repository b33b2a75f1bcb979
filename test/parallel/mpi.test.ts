// Drives the MPI-side scripts in this folder under `tessera launch` (and once under plain
// mpirun) at 2 and 4 ranks (4 oversubscribes the 2-core CI machine). Skips, saying why,
// where mpirun, the MPI build or dist/ is missing, unless TESSERA_REQUIRE lists mpi: then
// those are failures.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { native } from '../../src/native.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.js');
const here = (f: string): string => join(root, 'test', 'parallel', f);

function missing(): string | undefined {
  const mpirun = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (mpirun.error || mpirun.status !== 0) return 'mpirun was not found (apt-get install openmpi-bin libopenmpi-dev)';
  if (!native.commInfo().mpi) return 'the addon was built without MPI (install libopenmpi-dev, then npm run build:native)';
  if (!existsSync(cli)) return 'dist/ is not built (npx tsc -p tsconfig.json)';
  return undefined;
}

const reason = missing();
const required = (process.env.TESSERA_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('mpi');

interface Run {
  code: number | null;
  out: string;
}

function launch(np: number, script: string, args: string[] = [], timeoutMs = 90_000): Run {
  const r = spawnSync(process.execPath, [cli, 'launch', '-n', String(np), here(script), ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, TESSERA_COMM_TIMEOUT_MS: '30000' },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

if (reason !== undefined && required) {
  describe('MPI collectives', () => {
    it('are required (TESSERA_REQUIRE contains mpi)', () => {
      expect.fail(`TESSERA_REQUIRE contains mpi but ${reason}`);
    });
  });
} else if (reason !== undefined) {
  console.log(`skipping the MPI tests: ${reason}`);
  describe.skip(`MPI collectives (${reason})`, () => {
    it('skipped', () => {});
  });
} else {
  describe.each([2, 4])('MPI collectives at -n %i', (np) => {
    it('every collective, op, dtype and algorithm matches the local reference', () => {
      const r = launch(np, 'collectives.mjs');
      for (let rank = 0; rank < np; rank++) expect(r.out).toMatch(new RegExp(`rank ${rank} of ${np}: \\d+ checks, 0 failures`));
      expect(r.out).not.toContain('FAIL');
      expect(r.code).toBe(0);
    });

    it('ranks that disagree fail together with one message, and the communicator stays usable', () => {
      const r = launch(np, 'failures.mjs', ['mismatch']);
      expect(r.out).not.toContain('FAIL');
      for (let rank = 0; rank < np; rank++) {
        expect(r.out).toContain(`rank ${rank} ok: shapes differ -> allReduce: ranks disagree`);
        expect(r.out).toContain(`rank ${rank} ok: after every mismatch: a valid allReduce afterwards`);
      }
      expect(r.code).toBe(0);
    });

    it('invalid arguments are refused on the calling rank before any data moves', () => {
      const r = launch(np, 'failures.mjs', ['invalid']);
      expect(r.out).not.toContain('FAIL');
      expect(r.out.match(/rank 0 ok: /g)?.length).toBe(13);
      for (let rank = 0; rank < np; rank++) expect(r.out).toContain(`rank ${rank} ok: after invalid calls on rank 0 only`);
      expect(r.code).toBe(0);
    });

    it('a killed rank makes the others fail within the timeout, naming it', () => {
      const timeoutMs = 3000;
      const r = launch(np, 'failures.mjs', ['killed', String(timeoutMs)]);
      const dead = np - 1;
      for (let rank = 0; rank < dead; rank++) {
        const m = r.out.match(new RegExp(`rank ${rank} got after (\\d+) ms: allReduce: timed out after [\\d.]+ s without progress, waiting for rank ${dead} \\(of ${np}\\)`));
        expect(m, r.out).not.toBeNull();
        expect(Number(m![1])).toBeGreaterThanOrEqual(timeoutMs);
        expect(Number(m![1])).toBeLessThan(timeoutMs + 5000);
        expect(r.out).toContain(`rank ${rank} ok: after the failure -> allReduce: the communicator is broken`);
      }
      expect(r.out).toContain(`tessera launch: rank 0 exited with code 3`);
      expect(r.out).toContain(`rank ${dead} ended without an exit status (killed by a signal, or crashed)`);
      expect(r.code).toBe(3);
    });

    it('a rank that never starts MPI makes the others\' first call fail within the timeout', () => {
      const timeoutMs = 2000;
      const r = launch(np, 'failures.mjs', ['absent', String(timeoutMs)]);
      for (let rank = 0; rank < np - 1; rank++) {
        const m = r.out.match(new RegExp(`rank ${rank} got after (\\d+) ms: allReduce: MPI_Init did not complete within 2.000 s`));
        expect(m, r.out).not.toBeNull();
        expect(Number(m![1])).toBeLessThan(timeoutMs + 5000);
      }
      expect(r.code).toBe(3);
    });
  });

  describe('without tessera launch', () => {
    it('the same script runs under plain mpirun', () => {
      const args = ['-np', '2', ...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : []), process.execPath, here('collectives.mjs')];
      const r = spawnSync('mpirun', args, { encoding: 'utf8', timeout: 90_000 });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(out).toMatch(/rank 0 of 2: \d+ checks, 0 failures/);
      expect(out).toMatch(/rank 1 of 2: \d+ checks, 0 failures/);
      expect(r.status).toBe(0);
    });

    it('a script run with plain node is rank 0 of 1', () => {
      const r = spawnSync(process.execPath, [here('collectives.mjs')], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, OMPI_COMM_WORLD_SIZE: '', OMPI_COMM_WORLD_RANK: '' } });
      expect(`${r.stdout}\n${r.stderr}`).toMatch(/rank 0 of 1: \d+ checks, 0 failures/);
      expect(r.status).toBe(0);
    });
  });
}
