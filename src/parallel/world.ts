// The world communicator. Rank and size come from the launcher's environment (so reading
// them starts nothing); the engine is created on the first call: MPI when a launcher
// started this process as one of several ranks, the single-rank engine otherwise (no
// launcher, or -n 1: MPI is never initialized).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { nativeMpi } from '../native.js';
import { Communicator } from './communicator.js';
import { MpiEngine, SingleRankEngine, type Engine } from './engine.js';

export interface LaunchEnvironment {
  rank: number;
  size: number;
  /** Which launcher's variables were found (null: none, rank 0 of 1). */
  launcher: string | null;
}

const LAUNCHERS: [rank: string, size: string, name: string][] = [
  ['OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'Open MPI (mpirun / tessera launch)'],
  ['PMI_RANK', 'PMI_SIZE', 'MPICH / Hydra'],
  ['PMIX_RANK', 'PMIX_SIZE', 'PMIx'],
  ['MV2_COMM_WORLD_RANK', 'MV2_COMM_WORLD_SIZE', 'MVAPICH2'],
];

export function launchEnvironment(env: NodeJS.ProcessEnv = process.env): LaunchEnvironment {
  for (const [r, s, name] of LAUNCHERS) {
    const rank = Number(env[r]);
    const size = Number(env[s]);
    if (env[r] !== undefined && env[s] !== undefined && Number.isInteger(rank) && Number.isInteger(size) && size >= 1 && rank >= 0 && rank < size) {
      return { rank, size, launcher: name };
    }
  }
  return { rank: 0, size: 1, launcher: null };
}

const launched = launchEnvironment();

function worldEngine(): Engine {
  if (launched.size === 1) return new SingleRankEngine();
  if (nativeMpi === undefined) {
    throw new Error(
      `world: ${launched.launcher} started this process as rank ${launched.rank} of ${launched.size}, but Tessera's addon was built without MPI. ` +
        'Install MPI (Debian/Ubuntu: apt-get install libopenmpi-dev openmpi-bin) and rebuild the addon (npm run build:native).');
  }
  return MpiEngine.world(launched.rank, launched.size);
}

/** MPI_COMM_WORLD under a launcher (`tessera launch`, `mpirun`), else rank 0 of 1. */
export const world = new Communicator(worldEngine, { rank: launched.rank, size: launched.size });

// `tessera launch` collects each rank's exit code: mpirun, told to let ranks fail without
// killing the job (so that the others can report a clear error), no longer reports them.
const statusDir = process.env.TESSERA_LAUNCH_STATUS_DIR;
if (statusDir && launched.launcher !== null) {
  process.on('exit', (code) => {
    try {
      mkdirSync(statusDir, { recursive: true });
      writeFileSync(join(statusDir, String(launched.rank)), String(code));
    } catch {
      // The launcher then reports this rank as ended without a status.
    }
  });
}
