// Collectives and the world communicator.
export { AUTO, Communicator, DEFAULT_TIMEOUT_MS, blockOf } from './communicator.js';
export type { Algorithm, Collectable, CollectiveOptions, Like, PointToPointOptions, RecvOptions, ReduceOp } from './communicator.js';
export { MpiEngine, SingleRankEngine } from './engine.js';
export type { Engine, EngineAlgorithm } from './engine.js';
export { launchEnvironment, world } from './world.js';
export type { LaunchEnvironment } from './world.js';
export { DataParallel, DEFAULT_BUCKET_BYTES, planBuckets } from './data_parallel.js';
export type { Callbacks, CheckpointOptions, DataParallelOptions, DataSource, Example, FitOptions, FitResult, LayersModelLike, LossResult, StepResult, TrainerSpec } from './data_parallel.js';
export { readCheckpoint, writeCheckpoint, writeFileAtomic } from './checkpoint.js';
export type { CheckpointContents, CheckpointTensor, TrainingPosition } from './checkpoint.js';
