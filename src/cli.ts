#!/usr/bin/env node
// `tessera` command line.
import { runtimeInfoAsync } from './info.js';
import { launch, launchUsage, parseLaunchArgs } from './parallel/launch.js';

async function printInfo(json: boolean): Promise<void> {
  const info = await runtimeInfoAsync();
  if (json) {
    console.log(JSON.stringify(info, null, 2));
    return;
  }
  const w = info.build.with;
  console.log(`tessera ${info.version} on Node.js ${info.node}`);
  console.log(`addon: ${info.build.compiler}, ${info.build.buildType}, N-API ${info.build.napiVersion}`);
  console.log(`built with: CUDA ${w.cuda || 'no'}, MPI ${w.mpi || 'no'}, NCCL ${w.nccl ? 'yes' : 'no'}`);
  const c = info.collectives;
  console.log(`collectives: single-rank engine ✓; MPI engine ${c.mpi ? `✓ ${c.mpi.library} (MPI ${c.mpi.standard}; ring, recursive-doubling, tree and the library's own collectives)` : '✗ built without MPI (install libopenmpi-dev and rebuild)'}; NCCL engine ${c.nccl ? '✓ (untested)' : '✗ not built'}`);
  console.log(`  this process: rank ${c.rank} of ${c.size}${c.launcher ? ` (${c.launcher})` : ' (no launcher: `tessera launch -n N script.js` starts N ranks)'}`);
  console.log(`cpu: ${info.build.isa} kernels, ${info.threads} threads (TESSERA_NUM_THREADS overrides)`);
  console.log('devices:');
  for (const d of info.devices) {
    console.log(`  ${d.available ? '✓' : '✗'} ${d.name}${d.available ? '' : ` — ${d.reason}`}`);
  }
  for (const k of info.kernels) {
    const total = k.native.length + k.fallback.length;
    console.log(`kernels on ${k.backend}: ${k.native.length} native, ${k.fallback.length} fallback (${k.fallbackTo}), ${total} in all`);
    console.log(`  native:   ${k.native.join(' ')}`);
    console.log(`  fallback: ${k.fallback.join(' ')}`);
  }
}

function usage(): void {
  console.log(`usage: tessera <command>

commands:
  info [--json]   version, build options, devices (and why one is absent), native and fallback kernels
  launch -n N [--hostfile F] script.js [args]
                  runs N ranks of script.js under mpirun (see \`tessera launch --help\`)
  help            this text`);
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'info':
    await printInfo(rest.includes('--json'));
    break;
  case 'launch':
    if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h') {
      console.log(launchUsage());
      break;
    }
    try {
      process.exitCode = await launch(parseLaunchArgs(rest));
    } catch (e) {
      console.error((e as Error).message);
      process.exitCode = 2;
    }
    break;
  case undefined:
  case 'help':
  case '--help':
    usage();
    break;
  default:
    console.error(`tessera: unknown command '${command}'`);
    usage();
    process.exitCode = 2;
}
