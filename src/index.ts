// Public API. Importing this module registers the tfjs backends (tessera-cpu today).
export { kernelCoverage, TESSERA_CPU, TesseraCpuBackend } from './backend/index.js';
export type { KernelCoverage } from './backend/index.js';
export * as kernels from './kernels/index.js';
export { DeviceArray, array, empty } from './kernels/array.js';
export type { DType } from './kernels/array.js';
export { cpu, nativeCpuOps } from './device/cpu.js';
export type { Device, DeviceKind } from './device/device.js';
export { native } from './native.js';
export { runtimeInfo } from './info.js';
export type { RuntimeInfo } from './info.js';
