// What this installation is and can do: the data behind `tessera info`.
import { readFileSync } from 'node:fs';

import { kernelCoverage, type KernelCoverage } from './backend/index.js';
import { cpu } from './device/cpu.js';
import { native, type BuildInfo } from './native.js';

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
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function runtimeInfo(): RuntimeInfo {
  const cuda = native.cudaInfo();
  const devices: DeviceReport[] = [{ kind: 'cpu', name: cpu.name, available: true }];
  if (cuda.devices.length > 0) {
    for (const d of cuda.devices) {
      devices.push({ kind: 'cuda', name: `cuda:${d.index} ${d.name} (sm ${d.computeCapability}, ${(d.memoryBytes / 2 ** 30).toFixed(1)} GiB)`, available: false, reason: 'CUDA kernels are not implemented yet; the device is detected only' });
    }
  } else {
    devices.push({ kind: 'cuda', name: 'cuda', available: false, reason: cuda.reason });
  }
  devices.push({ kind: 'webgpu', name: 'webgpu', available: false, reason: 'the WebGPU device is not implemented yet in this version' });
  return {
    version: packageVersion(),
    node: process.version,
    build: native.buildInfo(),
    threads: native.numThreads(),
    devices,
    kernels: kernelCoverage(),
  };
}
