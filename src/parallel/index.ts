// Collectives and the world communicator.
export { AUTO, Communicator, DEFAULT_TIMEOUT_MS, blockOf } from './communicator.js';
export type { Algorithm, Collectable, CollectiveOptions, Like, PointToPointOptions, RecvOptions, ReduceOp } from './communicator.js';
export { MpiEngine, SingleRankEngine } from './engine.js';
export type { Engine, EngineAlgorithm } from './engine.js';
export { launchEnvironment, world } from './world.js';
export type { LaunchEnvironment } from './world.js';
