// Public API. Importing this module registers the tfjs backends tessera-cpu (the default),
// tessera-webgpu (opened on tf.setBackend('tessera-webgpu')) and tessera-cuda (opened on
// tf.setBackend('tessera-cuda'); configureCuda picks the device).
export { configureWebGpu, kernelCoverage, registerWebGpuBackend, TESSERA_CPU, TESSERA_WEBGPU, TesseraCpuBackend, TesseraWebGpuBackend } from './backend/index.js';
export { configureCuda, registerCudaBackend, TESSERA_CUDA, TesseraCudaBackend } from './backend/index.js';
export type { CudaBackendOptions } from './backend/backend_cuda.js';
export { CudaDevice, CudaError, cudaAvailability } from './device/cuda.js';
export { WebGpuDevice, WebGpuError } from './device/webgpu.js';
export type { WebGpuOptions } from './device/webgpu.js';
export type { KernelCoverage } from './backend/index.js';
export * as kernels from './kernels/index.js';
export { DeviceArray, array, empty } from './kernels/array.js';
export type { DType } from './kernels/array.js';
export { cpu, nativeCpuOps } from './device/cpu.js';
export type { Device, DeviceKind } from './device/device.js';
export { native } from './native.js';
export { runtimeInfo, runtimeInfoAsync, webGpuReport } from './info.js';
export type { RuntimeInfo } from './info.js';
export { AUTO, Communicator, DataParallel, DEFAULT_BUCKET_BYTES, launchEnvironment, readCheckpoint, world, writeCheckpoint } from './parallel/index.js';
export type { Algorithm, Collectable, CollectiveOptions, LaunchEnvironment, PointToPointOptions, RecvOptions, ReduceOp } from './parallel/index.js';
export type { Callbacks, CheckpointContents, CheckpointOptions, DataParallelOptions, DataSource, Example, FitOptions, FitResult, LayersModelLike, LossResult, StepResult, TrainerSpec, TrainingPosition } from './parallel/index.js';
