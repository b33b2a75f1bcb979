// `tessera launch -n N [--hostfile F] script.js [args]`: runs N ranks of a Node.js script
// under Open MPI's mpirun, with the options Tessera's failure handling needs.
//
// - --enable-recovery: by default mpirun kills the whole job the moment one rank dies; then
//   the survivors never print why their collective failed. With it they run on, fail within
//   their timeout with an error naming the rank they waited for, and exit.
// - Exit status: with --enable-recovery mpirun exits 0 whatever the ranks did, so each rank
//   writes its exit code into a status directory (src/parallel/world.ts) and the launcher
//   exits with the first non-zero one, or 1 for a rank that ended without one (killed).
// - --allow-run-as-root when root (Open MPI refuses otherwise), --oversubscribe when N
//   exceeds this machine's cores and no hostfile is given.
// - The environment: local ranks inherit it; -x forwards PATH, LD_LIBRARY_PATH and the
//   NODE_* / TESSERA_* variables to ranks on other hosts.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface LaunchOptions {
  np: number;
  hostfile?: string;
  /** Extra arguments for mpirun, before the program. */
  mpirunArgs?: string[];
  script: string;
  args: string[];
}

export function launchUsage(): string {
  return `usage: tessera launch -n N [--hostfile FILE] [--mpirun-arg ARG]... script.js [args...]

Runs N ranks of script.js under mpirun (Open MPI). In the script, \`import { world } from 'tessera'\`
gives the world communicator (world.rank, world.size, world.allReduce, ...).
  -n, --np N          number of ranks
  --hostfile FILE     hosts to run on (Open MPI hostfile: "host slots=K" per line); every host needs
                      the same Node.js, the same paths to tessera and the script, and ssh without a password
  --mpirun-arg ARG    passes ARG to mpirun (repeatable), e.g. --mpirun-arg=--bind-to --mpirun-arg=none
Environment: TESSERA_COMM_TIMEOUT_MS (default 120000) bounds every wait; TESSERA_MPIRUN names mpirun.`;
}

export function parseLaunchArgs(argv: string[]): LaunchOptions {
  let np: number | undefined;
  let hostfile: string | undefined;
  const mpirunArgs: string[] = [];
  let i = 0;
  const value = (flag: string): string => {
    const eq = argv[i].indexOf('=');
    if (eq >= 0) return argv[i].slice(eq + 1);
    if (i + 1 >= argv.length) throw new Error(`tessera launch: ${flag} needs a value`);
    return argv[++i];
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-n' || a === '-np' || a === '--np' || a.startsWith('--np=') || a.startsWith('-n=')) {
      const v = value('-n');
      np = Number(v);
      if (!Number.isInteger(np) || np < 1) throw new Error(`tessera launch: expected a positive integer for -n but got '${v}'`);
    } else if (a === '--hostfile' || a.startsWith('--hostfile=')) {
      hostfile = value('--hostfile');
    } else if (a === '--mpirun-arg' || a.startsWith('--mpirun-arg=')) {
      mpirunArgs.push(value('--mpirun-arg'));
    } else if (a.startsWith('-')) {
      throw new Error(`tessera launch: unknown option '${a}'`);
    } else {
      break;
    }
  }
  if (np === undefined) throw new Error('tessera launch: expected -n N (the number of ranks)');
  if (i >= argv.length) throw new Error('tessera launch: expected a script to run');
  return { np, hostfile, mpirunArgs, script: argv[i], args: argv.slice(i + 1) };
}

function mpirunPath(): string {
  const name = process.env.TESSERA_MPIRUN || 'mpirun';
  const found = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(`tessera launch: '${name}' was not found or failed (${found.error?.message ?? found.stderr.trim()}). ` +
      'Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or set TESSERA_MPIRUN.');
  }
  if (!/Open MPI|OpenRTE/i.test(found.stdout)) {
    throw new Error(`tessera launch: '${name}' is not Open MPI's mpirun (${found.stdout.split('\n')[0]}); ` +
      'with another MPI run `mpiexec -n N node script.js` directly.');
  }
  return name;
}

/** mpirun's arguments for `o`; `env` is the environment mpirun gets (its NODE_*, TESSERA_* and paths are forwarded). */
export function mpirunArguments(o: LaunchOptions, env: NodeJS.ProcessEnv = process.env): string[] {
  const args = ['-np', String(o.np)];
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-run-as-root');
  if (o.hostfile) args.push('--hostfile', resolve(o.hostfile));
  else if (o.np > availableParallelism()) args.push('--oversubscribe');
  args.push('--enable-recovery');
  const forward = Object.keys(env).filter((k) => k === 'PATH' || k === 'LD_LIBRARY_PATH' || k.startsWith('NODE_') || k.startsWith('TESSERA_'));
  for (const k of forward) args.push('-x', k);
  args.push(...(o.mpirunArgs ?? []));
  args.push(process.execPath, ...process.execArgv, resolve(o.script), ...o.args);
  return args;
}

/** Runs the job; resolves to the exit code for `tessera launch`. */
export async function launch(o: LaunchOptions): Promise<number> {
  const mpirun = mpirunPath();
  // Ranks on other hosts write their status there, out of reach: only local jobs collect it.
  const statusDir = o.hostfile ? undefined : mkdtempSync(join(tmpdir(), 'tessera-launch-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (statusDir) env.TESSERA_LAUNCH_STATUS_DIR = statusDir;
  if (process.getuid?.() === 0) {
    env.OMPI_ALLOW_RUN_AS_ROOT = '1';
    env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
  }
  const child = spawn(mpirun, mpirunArguments(o, env), { stdio: 'inherit', env });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((res) => {
    child.on('error', () => res(127));
    child.on('exit', (c, sig) => res(c ?? (sig ? 128 : 1)));
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  if (!statusDir) return code;
  try {
    const files = readdirSync(statusDir);
    // A script that never imported tessera leaves no status: mpirun's exit code is all there is.
    if (files.length === 0) return code;
    const codes = new Map(files.map((f) => [Number(f), Number(readFileSync(join(statusDir, f), 'utf8'))]));
    const failed: string[] = [];
    let exit = code;
    for (let r = 0; r < o.np; r++) {
      const c = codes.get(r);
      if (c === undefined) {
        failed.push(`rank ${r} ended without an exit status (killed by a signal, or crashed)`);
        if (exit === 0) exit = 1;
      } else if (c !== 0) {
        failed.push(`rank ${r} exited with code ${c}`);
        if (exit === 0) exit = c;
      }
    }
    if (failed.length > 0) console.error(`tessera launch: ${failed.join('; ')}`);
    return exit;
  } finally {
    rmSync(statusDir, { recursive: true, force: true });
  }
}
