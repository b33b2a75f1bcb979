// Data-parallel training: every rank holds a full replica of the model, trains on its own
// share of each global batch, and the ranks average their gradients before every optimizer
// step, so that every replica applies the same update and stays identical.
//
// Batch semantics. `batchSize` is per rank (as in PyTorch DDP and Horovod): one optimizer
// step consumes batchSize × ranks × accumulationSteps samples (the global batch). Because
// every rank's share of a step has the same size, the mean over ranks of each rank's
// mean-loss gradient is the gradient of the mean loss over the global batch: N ranks at
// batch B/N take the same steps as 1 rank at batch B (up to the order of float sums).
// `globalBatchSize` instead fixes the global batch and divides it by the ranks.
//
// What overlaps with what. tfjs computes all gradients of a step in one synchronous call
// (tf.variableGrads) with no hook per gradient, so the backward pass cannot overlap the
// all-reduce as PyTorch DDP's autograd hooks let it. What does overlap: the gradients are
// fused into buckets (DEFAULT_BUCKET_BYTES, as DDP's 25 MB), and a bucket's all-reduce
// starts on the communicator's progress thread as soon as it is packed, while the main
// thread packs the next one; a reduced bucket is unpacked while later ones are in flight.
// The optimizer then runs once on all gradients: tfjs optimizers keep their state by
// position in the gradient list and advance their step count per call (Adam's beta powers),
// so a per-bucket update would not be the same update. With gradient accumulation the
// micro-batches' gradients are summed locally and the ranks communicate once per step
// (DDP's no_sync), which is also where most communication time is saved.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';

import { decodeCheckpoint, writeCheckpoint, type CheckpointTensor, type CheckpointDType, type TrainingPosition } from './checkpoint.js';
import { blockOf, type Algorithm, type Communicator } from './communicator.js';
import { formatLogs, ProgressBar } from './progress.js';
import { world } from './world.js';

/** Gradient bucket size in bytes: PyTorch DDP's default bucket_cap_mb of 25. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/** The parts of a compiled tfjs-layers LayersModel that DataParallel uses (tfjs-layers stays optional). */
export interface LayersModelLike {
  readonly optimizer: tf.Optimizer;
  readonly lossFunctions: Array<(yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor>;
  readonly metricsNames: string[];
  readonly metricsTensors: Array<[(yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor, number]>;
  readonly trainableWeights: Array<{ read(): tf.Tensor }>;
  readonly weights: Array<{ read(): tf.Tensor; readonly name: string }>;
  readonly outputs: unknown[];
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: { training?: boolean }): unknown;
  calculateLosses(): tf.Scalar[];
  stopTraining: boolean;
}

/** What a custom loss returns: the mean loss over the batch, optionally with metrics (each a mean over the batch). */
export type LossResult = tf.Scalar | { loss: tf.Scalar; metrics?: Record<string, tf.Scalar> };

export interface TrainerSpec<B> {
  /** The mean loss over one rank's batch; called inside tf.variableGrads. */
  loss: (batch: B) => LossResult;
  optimizer: tf.Optimizer;
  /** The variables to train (default: every trainable variable registered when DataParallel is made). */
  variables?: tf.Variable[];
  /** More variables to broadcast at the start and save in checkpoints (not trained: e.g. running statistics). */
  stateVariables?: tf.Variable[];
}

export interface DataParallelOptions {
  /** Default: `world`. */
  communicator?: Communicator;
  /** Gradient bucket size in bytes (default DEFAULT_BUCKET_BYTES = 25 MiB). */
  bucketBytes?: number;
  /** Micro-batches per optimizer step in fit (default 1); step() takes its micro-batches as arguments. */
  accumulationSteps?: number;
  /** Milliseconds without progress before a collective fails (default: the communicator's timeoutMs). */
  timeoutMs?: number;
  algorithm?: Algorithm;
  /**
   * Give every rank rank 0's non-trained state variables (batch-norm moving statistics)
   * after every step, as PyTorch DDP's broadcast_buffers does, so the replicas stay equal
   * (default true; one packed broadcast per step, and none for models without such state).
   * False syncs them only when a checkpoint is saved.
   */
  broadcastBuffers?: boolean;
}

/** An element of a data set for fit: {xs, ys} (tfjs-layers' fitDataset convention) or [xs, ys]. */
export type Example = { xs: tf.Tensor | tf.Tensor[]; ys: tf.Tensor | tf.Tensor[] } | [tf.Tensor | tf.Tensor[], tf.Tensor | tf.Tensor[]];

/** A tf.data.Dataset (anything with iterator()) or a function returning a fresh iterable per epoch. */
export type DataSource<T> =
  | { iterator(): Promise<{ next(): Promise<IteratorResult<T>> }> }
  | (() => AsyncIterable<T> | Iterable<T>);

export interface Callbacks {
  onTrainBegin?(logs?: Record<string, number>): unknown;
  onTrainEnd?(logs?: Record<string, number>): unknown;
  onEpochBegin?(epoch: number, logs?: Record<string, number>): unknown;
  onEpochEnd?(epoch: number, logs?: Record<string, number>): unknown;
  onBatchBegin?(batch: number, logs?: Record<string, number>): unknown;
  onBatchEnd?(batch: number, logs?: Record<string, number>): unknown;
  setModel?(model: unknown): void;
  setParams?(params: Record<string, unknown>): void;
}

export interface CheckpointOptions {
  path: string;
  /** Also save every this many optimizer steps (default: only at the end of each epoch). */
  everySteps?: number;
}

export interface FitOptions {
  epochs?: number;
  /** Samples per rank per micro-batch (default 32). The global batch is batchSize × ranks × accumulationSteps. */
  batchSize?: number;
  /** Alternative to batchSize: samples per optimizer step across all ranks (a multiple of ranks × accumulationSteps). */
  globalBatchSize?: number;
  accumulationSteps?: number;
  /** Reorder the samples every epoch (the same order on every rank; tensors only). Default true. */
  shuffle?: boolean;
  /** Seed of the shuffling (default 0). */
  seed?: number;
  /** Evaluated at every epoch end, sharded across ranks; logged as val_<name>. */
  validationData?: [tf.Tensor | tf.Tensor[], tf.Tensor | tf.Tensor[]] | DataSource<Example>;
  /** Default: batchSize. */
  validationBatchSize?: number;
  /** Run on every rank with the same logs (averaged across ranks), so decisions they take agree. */
  callbacks?: Callbacks | Callbacks[];
  /** 0: silent, 1: progress bar (default), 2: one line per epoch. Rank 0 only. */
  verbose?: 0 | 1 | 2;
  checkpoint?: CheckpointOptions;
  /** Load checkpoint.path first when it exists, and continue from its position. */
  resume?: boolean;
  /** Stop an epoch of a data set after this many steps. */
  stepsPerEpoch?: number;
}

export interface FitResult {
  epoch: number[];
  history: Record<string, number[]>;
  /** Samples per second across all ranks, per epoch (samples trained / epoch wall time, validation excluded). */
  samplesPerSecond: number[];
}

export interface StepResult {
  /** The loss averaged over ranks (and micro-batches): the global batch's mean loss. */
  loss: number;
  metrics: Record<string, number>;
}

interface Batch {
  xs: tf.Tensor[];
  ys: tf.Tensor[];
}

type Grads = tf.Tensor[];

function toList(x: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(x) ? x : [x];
}

function isLayersModel(x: unknown): x is LayersModelLike {
  const m = x as LayersModelLike;
  return typeof m === 'object' && m !== null && Array.isArray(m.trainableWeights) && typeof m.apply === 'function';
}

/** The model that holds the compiled losses: tf.Sequential keeps them on its inner graph model. */
function compiledOf(m: LayersModelLike): LayersModelLike | null {
  if (Array.isArray(m.lossFunctions) && m.lossFunctions.length > 0) return m;
  const inner = (m as { model?: LayersModelLike }).model;
  return inner && Array.isArray(inner.lossFunctions) && inner.lossFunctions.length > 0 ? inner : null;
}

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`DataParallel: expected a positive integer for ${name} but got ${String(v)}`);
  return v;
}

/** mulberry32, so every rank draws the same permutation from the same seed. */
function permutation(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Groups tensor indices, in order, into buckets of at least `capBytes` (the last may be smaller). */
export function planBuckets(sizes: readonly number[], capBytes: number, bytesPerElement = 4): number[][] {
  const buckets: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((n, i) => {
    current.push(i);
    bytes += n * bytesPerElement;
    if (bytes >= capBytes) {
      buckets.push(current);
      current = [];
      bytes = 0;
    }
  });
  if (current.length > 0 || buckets.length === 0) buckets.push(current);
  return buckets;
}

function parseExample(e: Example): Batch {
  if (Array.isArray(e)) return { xs: toList(e[0]), ys: toList(e[1]) };
  if (e && typeof e === 'object' && 'xs' in e && 'ys' in e) return { xs: toList(e.xs), ys: toList(e.ys) };
  throw new Error('DataParallel: expected data set elements {xs, ys} or [xs, ys] of tensors');
}

async function* iterate<T>(source: DataSource<T>): AsyncGenerator<T> {
  if (typeof source === 'function') {
    yield* source() as AsyncIterable<T>;
    return;
  }
  const it = await source.iterator();
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield r.value;
  }
}

/** A rank's micro-batches, step by step, through one epoch. */
interface EpochReader {
  /** Steps in the epoch, when known. */
  readonly steps: number | null;
  /** This rank's micro-batches of the next step, or null when the epoch has ended (on every rank alike). */
  next(): Promise<Batch[] | null>;
  close(): void;
}

export class DataParallel<B = unknown> {
  readonly communicator: Communicator;
  readonly optimizer: tf.Optimizer;
  /** Trained variables, in the order their gradients are bucketed. */
  readonly variables: tf.Variable[];
  /** Every variable broadcast at the start and saved in checkpoints (trained ones first). */
  readonly stateVariables: tf.Variable[];
  readonly model: LayersModelLike | null;
  private readonly compiled: LayersModelLike | null;
  /** Optimizer steps applied so far (restored by loadCheckpoint). */
  stepCount = 0;
  /** Where fit stands (restored by loadCheckpoint, saved by saveCheckpoint). */
  position: TrainingPosition = { step: 0, epoch: 0, stepInEpoch: 0 };

  private readonly lossFn: (batch: B) => LossResult;
  private readonly bucketBytes: number;
  private readonly accumulationSteps: number;
  private readonly collective: { timeoutMs?: number; algorithm?: Algorithm };
  private readonly broadcastBuffers: boolean;
  private synced = false;
  private metricNames: string[] | null = null;
  private lastCheckpoint: { path: string; step: number } | null = null;

  /** Wraps a compiled tfjs-layers model (fit, evaluate, step on {xs, ys}). */
  constructor(model: LayersModelLike, options?: DataParallelOptions);
  /** Wraps a custom loss and optimizer (step). */
  constructor(spec: TrainerSpec<B>, options?: DataParallelOptions);
  constructor(target: LayersModelLike | TrainerSpec<B>, options: DataParallelOptions = {}) {
    this.communicator = options.communicator ?? world;
    this.bucketBytes = options.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    if (!(this.bucketBytes > 0)) throw new Error(`DataParallel: expected a positive bucketBytes but got ${this.bucketBytes}`);
    this.accumulationSteps = positiveInteger('accumulationSteps', options.accumulationSteps ?? 1);
    this.collective = { timeoutMs: options.timeoutMs, algorithm: options.algorithm };
    this.broadcastBuffers = options.broadcastBuffers ?? true;
    if (isLayersModel(target)) {
      const compiled = compiledOf(target);
      if (!target.optimizer || compiled === null) {
        throw new Error('DataParallel: the model must be compiled (model.compile({optimizer, loss})) before it is wrapped');
      }
      this.model = target;
      this.compiled = compiled;
      this.optimizer = target.optimizer;
      this.variables = target.trainableWeights.map((w) => w.read() as tf.Variable);
      const trained = new Set(this.variables);
      this.stateVariables = [...this.variables, ...target.weights.map((w) => w.read() as tf.Variable).filter((v) => !trained.has(v))];
      this.lossFn = ((b: Batch) => this.modelLoss(b, true)) as unknown as (batch: B) => LossResult;
    } else {
      if (typeof target?.loss !== 'function' || target.optimizer == null || !(target.optimizer instanceof tf.Optimizer)) {
        throw new Error('DataParallel: expected a compiled tfjs-layers model or {loss: (batch) => scalar, optimizer: tf.Optimizer, variables?}');
      }
      this.model = null;
      this.compiled = null;
      this.optimizer = target.optimizer;
      this.variables = target.variables ?? Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
      if (this.variables.length === 0) throw new Error('DataParallel: no variables to train');
      this.stateVariables = [...this.variables, ...(target.stateVariables ?? []).filter((v) => !this.variables.includes(v))];
      this.lossFn = target.loss;
    }
  }

  get rank(): number {
    return this.communicator.rank;
  }
  get size(): number {
    return this.communicator.size;
  }
  /** Rank 0: the one that logs and writes files. */
  get isRoot(): boolean {
    return this.rank === 0;
  }

  /** Broadcasts every state variable from rank 0 (done once, before the first step, unless a checkpoint was loaded). Collective. */
  async broadcastWeights(): Promise<void> {
    const vars = this.stateVariables;
    const float = vars.map((v, i) => (v.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
    const other = vars.map((v, i) => (v.dtype !== 'float32' ? i : -1)).filter((i) => i >= 0);
    const buckets = planBuckets(float.map((i) => vars[i].size), this.bucketBytes).map((b) => b.map((k) => float[k]));
    const pending = buckets.filter((b) => b.length > 0).map((b) => {
      const flat = tf.tidy(() => tf.concat(b.map((i) => tf.reshape(vars[i], [-1]))));
      return { b, result: this.guard(this.communicator.broadcast(flat, 0, this.collective).finally(() => flat.dispose()), 'broadcasting the initial weights') };
    });
    for (const { b, result } of pending) {
      const r = await result;
      tf.tidy(() => {
        const parts = tf.split(r, b.map((i) => vars[i].size));
        b.forEach((i, k) => vars[i].assign(tf.reshape(parts[k], vars[i].shape)));
      });
      r.dispose();
    }
    for (const i of other) {
      const r = await this.guard(this.communicator.broadcast(vars[i], 0, this.collective), 'broadcasting the initial weights');
      vars[i].assign(r);
      r.dispose();
    }
    this.synced = true;
  }

  /**
   * One optimizer step. Each argument is one micro-batch of this rank's share; with several,
   * their gradients are averaged locally before the ranks average theirs (gradient
   * accumulation). Every rank must call step the same number of times, each with the same
   * number of equal-size micro-batches. Collective.
   */
  async step(...microBatches: B[]): Promise<StepResult> {
    if (microBatches.length === 0) throw new Error('DataParallel.step: expected at least one micro-batch');
    if (!this.synced) await this.broadcastWeights();
    const { grads, scalars } = this.localGradients(microBatches);
    let reduced: { grads: Grads; scalars: Float32Array };
    try {
      reduced = await this.allReduceMean(grads, scalars);
    } finally {
      tf.dispose(grads);
      scalars.dispose();
    }
    const named: tf.NamedTensorMap = {};
    this.variables.forEach((v, i) => (named[v.name] = reduced.grads[i]));
    this.optimizer.applyGradients(named);
    tf.dispose(reduced.grads);
    this.stepCount++;
    if (this.broadcastBuffers && this.size > 1 && this.stateVariables.length > this.variables.length) await this.broadcastState();
    const metrics: Record<string, number> = {};
    this.metricNames!.forEach((n, i) => (metrics[n] = reduced.scalars[i + 1]));
    return { loss: reduced.scalars[0], metrics };
  }

  // Gradients of this rank's micro-batches (their mean), and [loss, ...metrics] as a 1-D tensor.
  private localGradients(microBatches: B[]): { grads: Grads; scalars: tf.Tensor1D } {
    let sum: Grads | null = null;
    let scalarSum: tf.Tensor1D | null = null;
    for (const batch of microBatches) {
      let metrics: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const r = this.lossFn(batch);
        if (r instanceof tf.Tensor) return r;
        metrics = r.metrics ?? {};
        for (const m of Object.values(metrics)) tf.keep(m);
        return r.loss;
      }, this.variables);
      const names = Object.keys(metrics);
      if (this.metricNames === null) this.metricNames = names;
      else if (names.join('\0') !== this.metricNames.join('\0')) {
        tf.dispose([value, ...Object.values(grads), ...Object.values(metrics)]);
        throw new Error(`DataParallel.step: the loss returned metrics ${names.join(', ') || '(none)'} but earlier steps returned ${this.metricNames.join(', ') || '(none)'}`);
      }
      const g = this.variables.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const s = tf.tidy(() => tf.stack([value, ...names.map((n) => tf.cast(tf.reshape(metrics[n], []), 'float32'))]) as tf.Tensor1D);
      tf.dispose([value, ...Object.values(metrics)]);
      if (sum === null) {
        sum = g;
        scalarSum = s;
      } else {
        const prev: Grads = sum;
        sum = prev.map((a, i) => tf.add(a, g[i]));
        const prevScalars: tf.Tensor1D = scalarSum!;
        scalarSum = tf.add(prevScalars, s) as tf.Tensor1D;
        tf.dispose([...prev, ...g, prevScalars, s]);
      }
    }
    if (microBatches.length === 1) return { grads: sum!, scalars: scalarSum! };
    const k = 1 / microBatches.length;
    const grads = sum!.map((a) => tf.mul(a, k));
    const scalars = tf.mul(scalarSum!, k) as tf.Tensor1D;
    tf.dispose([...sum!, scalarSum!]);
    return { grads, scalars };
  }

  // Averages gradients across ranks in buckets; [loss, metrics] ride in the last bucket.
  private async allReduceMean(grads: Grads, scalars: tf.Tensor1D): Promise<{ grads: Grads; scalars: Float32Array }> {
    const sizes = grads.map((g) => g.size);
    const buckets = planBuckets(sizes, this.bucketBytes);
    const inFlight: { bucket: number[]; withScalars: boolean; result: Promise<tf.Tensor> }[] = [];
    buckets.forEach((bucket, k) => {
      const withScalars = k === buckets.length - 1;
      // Packing this bucket runs on the main thread while the previous ones are reduced.
      const flat = tf.tidy(() => tf.concat([...bucket.map((i) => tf.reshape(grads[i], [-1])), ...(withScalars ? [scalars] : [])]));
      const result = this.communicator.allReduce(flat, 'mean', this.collective).finally(() => flat.dispose());
      inFlight.push({ bucket, withScalars, result });
    });
    // A failure leaves the other buckets pending until they fail too; nobody else awaits them.
    for (const f of inFlight) f.result.catch(() => {});
    const out: Grads = new Array(grads.length);
    let reducedScalars: Float32Array = new Float32Array(0);
    try {
      for (const { bucket, withScalars, result } of inFlight) {
        const r = await this.guard(result, `all-reducing the gradients of step ${this.stepCount + 1}`);
        const parts = tf.split(r, [...bucket.map((i) => sizes[i]), ...(withScalars ? [scalars.size] : [])]);
        r.dispose();
        bucket.forEach((i, k) => {
          out[i] = tf.reshape(parts[k], grads[i].shape);
          parts[k].dispose();
        });
        if (withScalars) {
          reducedScalars = parts[bucket.length].dataSync() as Float32Array;
          parts[bucket.length].dispose();
        }
      }
    } catch (e) {
      tf.dispose(out.filter((t) => t !== undefined));
      throw e;
    }
    return { grads: out, scalars: reducedScalars };
  }

  // A failed collective, with what DataParallel was doing and where training can resume.
  private async guard<T>(p: Promise<T>, doing: string): Promise<T> {
    try {
      return await p;
    } catch (e) {
      const resume = this.lastCheckpoint
        ? ` The checkpoint ${this.lastCheckpoint.path} (step ${this.lastCheckpoint.step}) can resume training: run the job again with resume.`
        : '';
      throw new Error(`DataParallel (rank ${this.rank} of ${this.size}): ${doing} failed: ${(e as Error).message}.${resume}`, { cause: e });
    }
  }

  // tfjs-layers' training loss (LayersModel.makeTrainFunction): the sum of the outputs' mean
  // losses plus the regularizers, and each compiled metric's mean.
  private modelLoss(batch: Batch, training: boolean): { loss: tf.Scalar; metrics: Record<string, tf.Scalar> } {
    const model = this.compiled!;
    const predicted = model.apply(batch.xs.length === 1 ? batch.xs[0] : batch.xs, { training }) as tf.Tensor | tf.Tensor[];
    const outputs = toList(predicted);
    if (batch.ys.length !== model.lossFunctions.length) {
      throw new Error(`DataParallel: the model has ${model.lossFunctions.length} outputs but the batch has ${batch.ys.length} targets`);
    }
    const lossValues: tf.Scalar[] = [];
    let total: tf.Tensor | null = null;
    model.lossFunctions.forEach((fn, i) => {
      const l = fn(batch.ys[i], outputs[i]);
      lossValues.push(tf.mean(l));
      total = total === null ? l : tf.add(total, l);
    });
    let loss = tf.mean(total!) as tf.Scalar;
    if (training) for (const r of model.calculateLosses()) loss = tf.add(loss, r);
    const metrics: Record<string, tf.Scalar> = {};
    model.metricsTensors.forEach(([fn, out], i) => {
      const name = model.metricsNames[i + 1] ?? `metric_${i}`;
      metrics[name] = model.outputs.length > 1 && i < model.outputs.length ? lossValues[i] : tf.mean(fn(batch.ys[out], outputs[out]));
    });
    return { loss, metrics };
  }

  /**
   * Trains a compiled tfjs-layers model on tensors: every rank passes the same full `x` and
   * `y`; each step, rank r trains on its own block of the step's global batch (see the file
   * header for the batch semantics). Samples that do not fill a whole global batch at the
   * end of an epoch are left out of that epoch (with shuffling, different ones each epoch).
   * Collective.
   */
  async fit(x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[], options: FitOptions = {}): Promise<FitResult> {
    const xs = toList(x), ys = toList(y);
    const n = xs[0].shape[0];
    for (const t of [...xs, ...ys]) {
      if (t.shape[0] !== n) throw new Error(`DataParallel.fit: expected every x and y to have ${n} rows (axis 0) but got shape [${t.shape}]`);
    }
    const { perRank, accumulation, globalBatch } = this.batchGeometry(options);
    const stepsPerEpoch = Math.floor(n / globalBatch);
    if (stepsPerEpoch === 0) throw new Error(`DataParallel.fit: ${n} samples do not fill one global batch of ${globalBatch}`);
    const shuffle = options.shuffle ?? true;
    const seed = options.seed ?? 0;
    const reader = (epoch: number, skip: number): EpochReader => {
      const order = shuffle ? permutation(n, seed + epoch) : null;
      let s = skip;
      const take = (start: number): Batch => tf.tidy(() => {
        if (order === null) return { xs: xs.map((t) => tf.slice(t, start, perRank)), ys: ys.map((t) => tf.slice(t, start, perRank)) };
        const idx = tf.tensor1d(order.subarray(start, start + perRank), 'int32');
        return { xs: xs.map((t) => tf.gather(t, idx)), ys: ys.map((t) => tf.gather(t, idx)) };
      });
      return {
        steps: stepsPerEpoch,
        next: async () => {
          if (s >= stepsPerEpoch) return null;
          // Micro-batch m of rank r: block m * ranks + r of the step's global batch.
          const base = s++ * globalBatch;
          return Array.from({ length: accumulation }, (_, m) => take(base + (m * this.size + this.rank) * perRank));
        },
        close: () => {},
      };
    };
    return this.train(reader, { ...options, seed }, globalBatch, options.stepsPerEpoch === undefined ? stepsPerEpoch : Math.min(stepsPerEpoch, options.stepsPerEpoch));
  }

  /**
   * Trains a compiled tfjs-layers model on a data set of batches ({xs, ys} elements, as
   * tfjs-layers' fitDataset): rank r takes elements r, r + ranks, r + 2 ranks, ... Every rank
   * iterates the same data set in the same order (seed its shuffle), and an epoch ends for
   * all when one rank runs out or the ranks' batches differ in size. Collective.
   */
  async fitDataset(dataset: DataSource<Example>, options: FitOptions = {}): Promise<FitResult> {
    const accumulation = positiveInteger('accumulationSteps', options.accumulationSteps ?? this.accumulationSteps);
    const reader = (_epoch: number, skip: number): EpochReader => this.streamReader(dataset, accumulation, skip, options.stepsPerEpoch ?? null);
    // A data set's batch size is only known from its elements: the position counts steps.
    return this.train(reader, options, 0, options.stepsPerEpoch ?? null);
  }

  private batchGeometry(options: FitOptions): { perRank: number; accumulation: number; globalBatch: number } {
    const accumulation = positiveInteger('accumulationSteps', options.accumulationSteps ?? this.accumulationSteps);
    if (options.batchSize !== undefined && options.globalBatchSize !== undefined) {
      throw new Error('DataParallel.fit: give batchSize (per rank) or globalBatchSize (all ranks), not both');
    }
    if (options.globalBatchSize !== undefined) {
      const g = positiveInteger('globalBatchSize', options.globalBatchSize);
      if (g % (this.size * accumulation) !== 0) {
        throw new Error(`DataParallel.fit: globalBatchSize ${g} is not a multiple of ranks × accumulationSteps = ${this.size} × ${accumulation}: the shares would differ in size`);
      }
      return { perRank: g / (this.size * accumulation), accumulation, globalBatch: g };
    }
    const perRank = positiveInteger('batchSize', options.batchSize ?? 32);
    return { perRank, accumulation, globalBatch: perRank * this.size * accumulation };
  }

  private streamReader(dataset: DataSource<Example>, accumulation: number, skipSteps: number, maxSteps: number | null): EpochReader {
    const it = iterate(dataset);
    let index = 0;
    let steps = skipSteps;
    // The next element that belongs to this rank, disposing the others.
    const nextMine = async (): Promise<Batch | null> => {
      for (;;) {
        const r = await it.next();
        if (r.done) return null;
        const mine = index++ % this.size === this.rank;
        if (mine) return parseExample(r.value);
        tf.dispose(r.value as unknown as tf.TensorContainer);
      }
    };
    const skipping = (async () => {
      for (let i = 0; i < skipSteps * accumulation; i++) {
        const b = await nextMine();
        if (b === null) break;
        tf.dispose([...b.xs, ...b.ys]);
      }
    })();
    return {
      steps: maxSteps,
      next: async () => {
        await skipping;
        const micro: Batch[] = [];
        let ok = maxSteps === null || steps < maxSteps;
        for (let m = 0; ok && m < accumulation; m++) {
          const b = await nextMine();
          if (b === null) ok = false;
          else micro.push(b);
        }
        const rows = micro.map((b) => b.xs[0].shape[0] ?? 1);
        const lo = ok ? Math.min(...rows) : 0, hi = ok ? Math.max(...rows) : 0;
        // Every rank goes on only if every rank has full, equal shares: one tiny all-reduce.
        const agreed = await this.guard(this.communicator.allReduce(Int32Array.from([lo, -hi]), 'min', this.collective), 'agreeing on the next batch');
        if (agreed[0] === 0 || agreed[0] !== -agreed[1]) {
          for (const b of micro) tf.dispose([...b.xs, ...b.ys]);
          return null;
        }
        steps++;
        return micro;
      },
      close: () => {
        void it.return(undefined);
      },
    };
  }

  // The loop shared by fit and fitDataset.
  private async train(readerFor: (epoch: number, skipSteps: number) => EpochReader, options: FitOptions, globalBatch: number, stepsPerEpoch: number | null): Promise<FitResult> {
    if (this.model === null) throw new Error('DataParallel.fit: needs a tfjs-layers model; with a custom loss, call step()');
    const model = this.model;
    const epochs = positiveInteger('epochs', options.epochs ?? 1);
    const verbose = options.verbose ?? 1;
    const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
    const ckpt = options.checkpoint;
    if (ckpt?.everySteps !== undefined) positiveInteger('checkpoint.everySteps', ckpt.everySteps);

    let startEpoch = 0, skipSteps = 0;
    if (options.resume) {
      if (!ckpt) throw new Error('DataParallel.fit: resume needs checkpoint.path');
      const p = await this.loadCheckpoint(ckpt.path);
      if (p !== null) {
        if (globalBatch > 0 && p.globalBatchSize !== undefined && p.globalBatchSize !== globalBatch) {
          throw new Error(`DataParallel.fit: the checkpoint ${ckpt.path} was written at a global batch of ${p.globalBatchSize} samples but this run has ${globalBatch}: its data position would not match`);
        }
        if (p.seed !== undefined && options.seed !== undefined && p.seed !== options.seed) {
          throw new Error(`DataParallel.fit: the checkpoint ${ckpt.path} was written with seed ${p.seed} but this run has ${options.seed}`);
        }
        startEpoch = p.epoch;
        skipSteps = p.stepInEpoch;
        if (stepsPerEpoch !== null && skipSteps >= stepsPerEpoch) {
          startEpoch++;
          skipSteps = 0;
        }
        if (verbose > 0 && this.isRoot) console.log(`resuming from ${ckpt.path}: step ${p.step}, epoch ${startEpoch + 1}, step ${skipSteps} of the epoch`);
      }
    }
    if (!this.synced) await this.broadcastWeights();

    const params = { epochs, steps: stepsPerEpoch, samples: globalBatch > 0 && stepsPerEpoch !== null ? globalBatch * stepsPerEpoch : null, verbose, ranks: this.size };
    for (const cb of callbacks) {
      cb.setParams?.(params);
      cb.setModel?.(model);
    }
    const call = async (f: (cb: Callbacks) => unknown): Promise<void> => {
      for (const cb of callbacks) await f(cb);
    };
    model.stopTraining = false;
    const result: FitResult = { epoch: [], history: {}, samplesPerSecond: [] };
    await call((cb) => cb.onTrainBegin?.({}));
    const save = async (epoch: number, stepInEpoch: number): Promise<void> => {
      if (!ckpt) return;
      this.position = { step: this.stepCount, epoch, stepInEpoch, globalBatchSize: globalBatch > 0 ? globalBatch : undefined, seed: options.seed };
      await this.saveCheckpoint(ckpt.path);
    };

    for (let epoch = startEpoch; epoch < epochs && !model.stopTraining; epoch++) {
      await call((cb) => cb.onEpochBegin?.(epoch, {}));
      const reader = readerFor(epoch, epoch === startEpoch ? skipSteps : 0);
      const bar = verbose === 1 && this.isRoot ? new ProgressBar(`epoch ${epoch + 1}/${epochs}`, reader.steps) : null;
      const sums: Record<string, number> = {};
      let done = epoch === startEpoch ? skipSteps : 0;
      let trained = 0, samples = 0;
      let finished = false;
      const start = performance.now();
      try {
        for (;;) {
          const micro = await reader.next();
          if (micro === null) {
            finished = true;
            break;
          }
          await call((cb) => cb.onBatchBegin?.(done, {}));
          let r: StepResult;
          try {
            r = await this.step(...(micro as unknown as B[]));
          } finally {
            for (const b of micro) tf.dispose([...b.xs, ...b.ys]);
          }
          samples += micro.reduce((a, b) => a + (b.xs[0].shape[0] ?? 1), 0) * this.size;
          const logs: Record<string, number> = { loss: r.loss, ...r.metrics };
          for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v;
          done++;
          trained++;
          const rate = samples / ((performance.now() - start) / 1000);
          bar?.update(done, Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / trained])), rate);
          await call((cb) => cb.onBatchEnd?.(done - 1, logs));
          if (ckpt?.everySteps !== undefined && this.stepCount % ckpt.everySteps === 0) await save(epoch, done);
          if (model.stopTraining) break;
        }
      } finally {
        reader.close();
      }
      const seconds = (performance.now() - start) / 1000;
      const logs: Record<string, number> = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(trained, 1)]));
      if (options.validationData !== undefined) {
        const v = await this.evaluateSource(options.validationData, options.validationBatchSize ?? options.batchSize ?? 32);
        for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
      }
      const rate = samples / seconds;
      result.epoch.push(epoch);
      result.samplesPerSecond.push(rate);
      for (const [k, v] of Object.entries(logs)) (result.history[k] ??= []).push(v);
      if (verbose > 0 && this.isRoot) {
        const summary = `${done}${reader.steps ? `/${reader.steps}` : ''} steps · ${seconds.toFixed(1)} s · ${rate.toFixed(0)} samples/s (${this.size} rank${this.size > 1 ? 's' : ''}) · ${formatLogs(logs)}`;
        if (bar) bar.end(summary);
        else console.log(`epoch ${epoch + 1}/${epochs} ${summary}`);
      }
      await call((cb) => cb.onEpochEnd?.(epoch, logs));
      // A finished epoch's position is the next one's start; a stopped one resumes where it stopped.
      await save(finished ? epoch + 1 : epoch, finished ? 0 : done);
    }
    await call((cb) => cb.onTrainEnd?.({}));
    return result;
  }

  /**
   * The model's loss and metrics on `x`, `y` (every rank passes the same full tensors; each
   * evaluates its own block of rows), averaged over all samples. Collective.
   */
  async evaluate(x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[], options: { batchSize?: number } = {}): Promise<Record<string, number>> {
    return this.evaluateSource([x, y], options.batchSize ?? 32);
  }

  private async evaluateSource(data: FitOptions['validationData'], batchSize: number): Promise<Record<string, number>> {
    if (this.model === null) throw new Error('DataParallel.evaluate: needs a tfjs-layers model');
    const names = ['loss', ...this.compiled!.metricsNames.slice(1)];
    const sums = new Float32Array(names.length + 1);
    const add = (b: Batch): void => {
      const values = tf.tidy(() => {
        const { loss, metrics } = this.modelLoss(b, false);
        return tf.stack([loss, ...names.slice(1).map((n) => metrics[n])]).dataSync();
      });
      const rows = b.xs[0].shape[0] ?? 1;
      values.forEach((v, i) => (sums[i] += v * rows));
      sums[names.length] += rows;
    };
    if (Array.isArray(data)) {
      const xs = toList(data[0]), ys = toList(data[1]);
      // Rows split as numpy's array_split: the shares may differ by one row.
      const block = blockOf([xs[0].shape[0]], this.size, this.rank);
      const first = block.offset;
      for (let s = 0; s < block.length; s += batchSize) {
        const rows = Math.min(batchSize, block.length - s);
        const b = tf.tidy(() => ({ xs: xs.map((t) => tf.slice(t, first + s, rows)), ys: ys.map((t) => tf.slice(t, first + s, rows)) }));
        add(b);
        tf.dispose([...b.xs, ...b.ys]);
      }
    } else if (data !== undefined) {
      let index = 0;
      for await (const e of iterate(data)) {
        if (index++ % this.size === this.rank) {
          const b = parseExample(e);
          add(b);
        }
        tf.dispose(e as unknown as tf.TensorContainer);
      }
    }
    const total = await this.guard(this.communicator.allReduce(sums, 'sum', this.collective), 'evaluating');
    const n = total[names.length];
    return Object.fromEntries(names.map((name, i) => [name, n > 0 ? total[i] / n : NaN]));
  }

  /** This rank's block of rows (axis 0) of a global batch; its rows must divide evenly among the ranks. */
  shard<T extends tf.Tensor>(x: T): T {
    const rows = x.shape[0] ?? 1;
    if (rows % this.size !== 0) throw new Error(`DataParallel.shard: ${rows} rows do not divide evenly among ${this.size} ranks`);
    const per = rows / this.size;
    return tf.slice(x, this.rank * per, per) as T;
  }

  /**
   * Writes weights, optimizer state and `position` to `path` (rank 0 writes; the file is
   * replaced atomically). Every rank calls it: non-trained state variables (batch-norm
   * statistics) may differ across ranks and are broadcast from rank 0 first.
   */
  async saveCheckpoint(path: string, user?: unknown): Promise<void> {
    if (this.stateVariables.length > this.variables.length) await this.broadcastState();
    if (this.isRoot) {
      const tensors: CheckpointTensor[] = [];
      for (const v of this.stateVariables) tensors.push(await tensorEntry('weights', v.name, v));
      const opt = await this.optimizer.getWeights();
      for (const w of opt) tensors.push(await tensorEntry('optimizer', w.name, w.tensor));
      tf.dispose(opt.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
      this.position.step = this.stepCount;
      writeCheckpoint(path, { position: { ...this.position }, tensors, worldSize: this.size, user });
    }
    this.lastCheckpoint = { path, step: this.stepCount };
  }

  // Rank 0's non-trained state variables on every rank: the float32 ones packed into one
  // broadcast, any others one by one.
  private async broadcastState(): Promise<void> {
    const state = this.stateVariables.slice(this.variables.length);
    const floats = state.filter((v) => v.dtype === 'float32');
    if (floats.length > 0) {
      const flat = tf.tidy(() => tf.concat(floats.map((v) => tf.reshape(v, [-1]))));
      const r = await this.guard(this.communicator.broadcast(flat, 0, this.collective).finally(() => flat.dispose()), 'broadcasting state variables');
      let offset = 0;
      for (const v of floats) {
        const part = tf.tidy(() => tf.reshape(tf.slice(r, offset, v.size), v.shape));
        v.assign(part);
        part.dispose();
        offset += v.size;
      }
      r.dispose();
    }
    for (const v of state.filter((x) => x.dtype !== 'float32')) {
      const r = await this.guard(this.communicator.broadcast(v, 0, this.collective), 'broadcasting state variables');
      v.assign(r);
      r.dispose();
    }
  }

  /**
   * Restores weights, optimizer state and position from `path` on every rank: rank 0 reads
   * the file and broadcasts its bytes, so other ranks need no access to it. Resolves to the
   * position, or null (on every rank) when there is no checkpoint. Collective.
   */
  async loadCheckpoint(path: string): Promise<TrainingPosition | null> {
    let bytes: Uint8Array | null = null;
    let error = '';
    if (this.isRoot) {
      try {
        bytes = readFileSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') error = (e as Error).message;
      }
    }
    // [length, failed]: a read error on rank 0 fails every rank, not only rank 0.
    const head = await this.guard(this.communicator.broadcast(Int32Array.from([bytes?.byteLength ?? 0, error ? 1 : 0]), 0, this.collective), 'loading a checkpoint');
    if (head[1] === 1) throw new Error(`DataParallel.loadCheckpoint: rank 0 could not read ${path}${error ? `: ${error}` : ''}`);
    if (head[0] === 0) return null;
    const all = await this.guard(this.communicator.broadcast(bytes ?? new Uint8Array(head[0]), 0, this.collective), 'loading a checkpoint');
    const c = decodeCheckpoint(all, path);
    const weights = c.tensors.filter((t) => t.group === 'weights');
    if (weights.length !== this.stateVariables.length) {
      throw new Error(`DataParallel.loadCheckpoint: ${path} holds ${weights.length} weights but the model has ${this.stateVariables.length}`);
    }
    weights.forEach((t, i) => {
      const v = this.stateVariables[i];
      if (t.shape.join(',') !== v.shape.join(',') || t.dtype !== v.dtype) {
        throw new Error(`DataParallel.loadCheckpoint: ${path}: weight ${i} (${t.name}) is ${t.dtype} [${t.shape}] but the model's ${v.name} is ${v.dtype} [${v.shape}]`);
      }
    });
    tf.tidy(() => weights.forEach((t, i) => this.stateVariables[i].assign(tf.tensor(t.values, t.shape, t.dtype))));
    const opt = c.tensors.filter((t) => t.group === 'optimizer').map((t) => ({ name: t.name, tensor: tf.tensor(t.values, t.shape, t.dtype) }));
    await this.optimizer.setWeights(opt);
    tf.dispose(opt.map((o) => o.tensor));
    this.stepCount = c.position.step;
    this.position = { ...c.position };
    this.synced = true;
    this.lastCheckpoint = { path, step: c.position.step };
    return { ...c.position };
  }
}

async function tensorEntry(group: CheckpointTensor['group'], name: string, t: tf.Tensor): Promise<CheckpointTensor> {
  const dtype = t.dtype as CheckpointDType;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') throw new Error(`DataParallel.saveCheckpoint: ${name} is ${t.dtype}; checkpoints hold float32, int32 and bool`);
  const data = await t.data();
  const values = dtype === 'float32' ? Float32Array.from(data as Float32Array) : dtype === 'int32' ? Int32Array.from(data as Int32Array) : Uint8Array.from(data as Uint8Array);
  return { group, name, shape: [...t.shape], dtype, values };
}


