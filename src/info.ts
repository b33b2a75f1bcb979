// What this installation is and can do: the data behind `tessera info`.
import { readFileSync } from 'node:fs';

import { kernelCoverage, type KernelCoverage } from './backend/index.js';
import { cpu } from './device/cpu.js';
import { WebGpuDevice } from './device/webgpu.js';
import { native, type BuildInfo } from './native.js';
import { launchEnvironment } from './parallel/world.js';

export interface DeviceReport {
  kind: string;
  name: string;
  available: boolean;
  reason?: string;
}

export interface RuntimeInfo {
  version: string;
  node: string;
  build: BuildInfo;
  threads: number;
  devices: DeviceReport[];
  kernels: KernelCoverage[];
  collectives: CollectivesReport;
}

export interface CollectivesReport {
  /** The MPI engine: the library it was built against (null: built without MPI). */
  mpi: { library: string; standard: string } | null;
  nccl: boolean;
  /** This process, from the launcher's environment (rank 0 of 1 without one). */
  rank: number;
  size: number;
  launcher: string | null;
}

function collectivesReport(): CollectivesReport {
  const c = native.commInfo();
  const env = launchEnvironment();
  return {
    mpi: c.mpi ? { library: c.library ?? 'unknown MPI', standard: c.standard ?? '?' } : null,
    nccl: c.nccl,
    rank: env.rank,
    size: env.size,
    launcher: env.launcher,
  };
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** What this installation is; `webgpu` is the report of webGpuReport() where one was made. */
export function runtimeInfo(webgpu?: DeviceReport): RuntimeInfo {
  const cuda = native.cudaInfo();
  const devices: DeviceReport[] = [{ kind: 'cpu', name: cpu.name, available: true }];
  if (cuda.devices.length > 0) {
    for (const d of cuda.devices) {
      devices.push({ kind: 'cuda', name: `cuda:${d.index} ${d.name} (sm ${d.computeCapability}, ${(d.memoryBytes / 2 ** 30).toFixed(1)} GiB)`, available: true });
    }
  } else {
    devices.push({ kind: 'cuda', name: 'cuda', available: false, reason: cuda.reason });
  }
  devices.push(webgpu ?? { kind: 'webgpu', name: 'webgpu', available: false, reason: 'not probed: runtimeInfoAsync() (and `tessera info`) open the device to see' });
  return {
    version: packageVersion(),
    node: process.version,
    build: native.buildInfo(),
    threads: native.numThreads(),
    devices,
    kernels: kernelCoverage(),
    collectives: collectivesReport(),
  };
}

/** Opens (and closes) a WebGPU device to report whether tessera-webgpu can run, and on what. */
export async function webGpuReport(): Promise<DeviceReport> {
  try {
    const device = await WebGpuDevice.create();
    const { vendor, architecture } = device.adapterInfo;
    const details = [vendor, architecture].filter(Boolean).join(' ');
    const name = `webgpu ${device.name}${details && !device.name.includes(details) ? ` (${details})` : ''}${device.canReadSync ? '' : ', async reads only'}`;
    device.destroy();
    return { kind: 'webgpu', name, available: true };
  } catch (e) {
    return { kind: 'webgpu', name: 'webgpu', available: false, reason: (e as Error).message.replace(/^tessera-webgpu: /, '') };
  }
}

/** runtimeInfo() with the WebGPU device probed. */
export async function runtimeInfoAsync(): Promise<RuntimeInfo> {
  return runtimeInfo(await webGpuReport());
}
