// The tiled GEMM shared by MatMul and the convolutions (kernels/wgsl/matmul.wgsl), its
// split-K reduction (matmul_reduce.wgsl) and the fused epilogue (matmul_epilogue.wgsl):
// bias and activation as _FusedMatMul, FusedConv2D and FusedDepthwiseConv2D apply them.
//
// Program keys name everything that changes the WGSL (loaders, tile depth, transposes, how
// bias and prelu weights are indexed, the activation), never the sizes: those travel as
// parameters, so one pipeline serves every shape.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { workgroupsFor, type Program } from '../../../device/webgpu.js';
import type { TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { fillTemplate, Meta, metaPrelude, wgslSource } from '../wgsl.js';

/** Parameter words: the GEMM's and the loaders' come first, the epilogue's start here. */
export const EPILOGUE_WORD = 32;
const META_WORDS = EPILOGUE_WORD + 21;
/** Output tile edge of matmul.wgsl (64x64 per workgroup of 256, 4x4 per invocation). */
export const TILE = 64;
/** K step of the tiled loop (elements of K per tile load). */
const TK = 16;
const MAX_EPILOGUE_RANK = 6;

// tfjs-backend-cpu's activations keep NaN (Math.max(0, NaN) is NaN, exp(NaN) is NaN). On the
// GPU neither max() nor exp() need keep it (SwiftShader's exp(NaN) is not NaN), and compilers
// may fold comparisons against NaN, so NaN is tested by its bits (isNan) and passed through.
const ACTIVATIONS: Record<string, string> = {
  relu: 'v = select(max(v, 0.0), v, isNan(v));',
  relu6: 'v = select(clamp(v, 0.0, 6.0), v, isNan(v));',
  elu: 'v = select(select(exp(v) - 1.0, v, v >= 0.0), v, isNan(v));',
  sigmoid: 'v = select(1.0 / (1.0 + exp(-v)), v, isNan(v));',
  leakyrelu: 'v = select(v, mf(32u) * v, v < 0.0);',
  prelu: 'v = select(v, preluWeights[operandIndex(i, 46u, PRELU_GENERAL)] * v, v < 0.0);',
  linear: '',
};

/** The fused epilogue of a kernel's attrs and inputs. */
export interface EpilogueSpec {
  bias?: TensorInfo | null;
  preluActivationWeights?: TensorInfo | null;
  activation?: string | null;
  leakyreluAlpha?: number;
}

/** How an operand (bias, prelu weights) is indexed from the flat output index. */
type OperandMode = 'none' | 'suffix' | 'general';

/** An epilogue ready to compile: extra inputs, WGSL pieces, key and parameters. */
export interface Epilogue {
  inputs: TensorInfo[];
  key: string;
  /** Binding declarations of the epilogue's inputs, from binding `first` on. */
  bindings(first: number): string;
  /** The WGSL of finish(i, v) (built when a pipeline is compiled, not before). */
  wgsl(): string;
  /** Appends the epilogue's words (the Meta must hold exactly EPILOGUE_WORD words). */
  write(meta: Meta): void;
}

/** The identity epilogue (no bias, no activation). */
export const NO_EPILOGUE: Epilogue = makeEpilogue({}, [])!;

function operandMode(shape: readonly number[], outShape: readonly number[]): OperandMode | null {
  if (shape.length > outShape.length) return null;
  for (let i = 1; i <= shape.length; i++) {
    const d = shape[shape.length - i];
    if (d !== 1 && d !== outShape[outShape.length - i]) return null;
  }
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  const kept = shape.slice(first);
  const tail = outShape.slice(outShape.length - kept.length);
  return util.arraysEqual(kept, tail) ? 'suffix' : 'general';
}

/** Strides of `shape` (row-major) over the 6 padded dims of `outShape`: 0 where it broadcasts. */
function operandStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(MAX_EPILOGUE_RANK).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    // Aligned at the right, as broadcasting aligns shapes.
    const d = MAX_EPILOGUE_RANK - shape.length + i;
    strides[d] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/**
 * The epilogue for `spec` over an output of `outShape`, or null when the WGSL does not take
 * it (bias or prelu weights that are not float32 or would enlarge the output, an unknown
 * activation, a general broadcast past rank 6).
 */
export function makeEpilogue(spec: EpilogueSpec, outShape: readonly number[]): Epilogue | null {
  // tfjs applies no activation when it is missing or empty; 'linear' is the identity.
  const activation = spec.activation || 'linear';
  if (!(activation in ACTIVATIONS)) return null;
  if (activation === 'leakyrelu' && typeof spec.leakyreluAlpha !== 'number') return null;
  const bias = spec.bias ?? undefined;
  const prelu = activation === 'prelu' ? spec.preluActivationWeights ?? undefined : undefined;
  if (activation === 'prelu' && prelu === undefined) return null;
  const modeOf = (t: TensorInfo | undefined): OperandMode | null => {
    if (t === undefined) return 'none';
    if (t.dtype !== 'float32') return null;
    const mode = operandMode(t.shape, outShape);
    if (mode === 'general' && outShape.length > MAX_EPILOGUE_RANK) return null;
    return mode;
  };
  const biasMode = modeOf(bias);
  const preluMode = modeOf(prelu);
  if (biasMode === null || preluMode === null) return null;
  const inputs = [bias, prelu].filter((t): t is TensorInfo => t !== undefined);
  const key = `${activation}/bias-${biasMode}/prelu-${preluMode}`;
  const wgsl = () => fillTemplate(wgslSource('matmul_epilogue'), {
    BIAS: biasMode === 'none' ? '' : `v = v + bias[operandIndex(i, 39u, ${biasMode === 'general'})];`,
    ACTIVATION: ACTIVATIONS[activation],
  }).replace(/PRELU_GENERAL/g, String(preluMode === 'general'));
  return {
    inputs,
    key,
    bindings(first: number): string {
      const lines: string[] = [];
      let binding = first;
      if (bias !== undefined) lines.push(`@group(0) @binding(${binding++}) var<storage, read> bias: array<f32>;`);
      if (prelu !== undefined) lines.push(`@group(0) @binding(${binding++}) var<storage, read> preluWeights: array<f32>;`);
      return lines.join('\n');
    },
    wgsl,
    write(meta: Meta): void {
      if (meta.length !== EPILOGUE_WORD) throw new Error(`tessera-webgpu: epilogue parameters must start at word ${EPILOGUE_WORD}`);
      meta.f32(activation === 'leakyrelu' ? spec.leakyreluAlpha! : 0);
      const rank = Math.min(outShape.length, MAX_EPILOGUE_RANK);
      const dims = [...new Array<number>(MAX_EPILOGUE_RANK - rank).fill(1), ...outShape.slice(outShape.length - rank)];
      meta.u32(...dims);
      for (const t of [bias, prelu]) {
        meta.u32(t === undefined ? 1 : util.sizeFromShape(t.shape));
        meta.u32(...(t === undefined || outShape.length > MAX_EPILOGUE_RANK ? new Array<number>(MAX_EPILOGUE_RANK).fill(0) : operandStrides(t.shape)));
      }
    },
  };
}

/** Pads `meta` with zero words up to `words`. */
export function padMeta(meta: Meta, words: number): Meta {
  if (meta.length > words) throw new Error(`tessera-webgpu: ${meta.length} parameter words where at most ${words} fit`);
  while (meta.length < words) meta.u32(0);
  return meta;
}

function storageDecl(binding: number, name: string, access: 'read' | 'read_write'): string {
  return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<f32>;`;
}

/** A GEMM to run: the loaders and their inputs, sizes, and what to do with the result. */
export interface Gemm {
  /** Names the loaders and everything in them that changes the WGSL. */
  loadersKey: string;
  /** The loaders' WGSL (see matmul.wgsl for their contract); they read `lhs` and `rhs`. */
  loaders(): string;
  /** Whether A is contiguous along k (else along m), and B along n (else along k). */
  aKFast: boolean;
  bNFast: boolean;
  lhs: TensorInfo;
  rhs: TensorInfo;
  M: number;
  N: number;
  K: number;
  batch: number;
  /** Appends the loaders' parameters (words 8..31). */
  loaderWords(meta: Meta): void;
  epilogue: Epilogue;
  outShape: number[];
}

// Split K when the output has too few tiles to occupy a GPU and K is long: each workgroup
// along z then sums a slice of K, and a second pass adds the slices up.
const SPLIT_MIN_TILES = 32;
const SPLIT_MIN_K_PER_SLICE = 512;
const SPLIT_TARGET_WORKGROUPS = 128;

function splitsFor(tiles: number, K: number, outputs: number, maxBytes: number): { splits: number; chunk: number } {
  const whole = { splits: 1, chunk: Math.max(TK, Math.ceil(K / TK) * TK) };
  if (tiles >= SPLIT_MIN_TILES || K < 2 * SPLIT_MIN_K_PER_SLICE) return whole;
  let splits = Math.min(Math.floor(K / SPLIT_MIN_K_PER_SLICE), Math.ceil(SPLIT_TARGET_WORKGROUPS / tiles), 64);
  if (splits < 2 || splits * outputs * 4 > maxBytes) return whole;
  const chunk = Math.ceil(Math.ceil(K / splits) / TK) * TK;
  splits = Math.ceil(K / chunk);
  return splits < 2 ? whole : { splits, chunk };
}

function gemmProgram(g: Gemm, epilogue: Epilogue, partial: boolean): Program {
  const extra = partial ? [] : epilogue.inputs;
  const outBinding = 2 + extra.length;
  return {
    key: `gemm/${g.loadersKey}/tk${TK}/${g.aKFast ? 'ak' : 'am'}${g.bNFast ? 'bn' : 'bk'}/${partial ? 'partial' : epilogue.key}`,
    wgsl: () =>
      fillTemplate(wgslSource('matmul'), {
        BINDINGS: [storageDecl(0, 'lhs', 'read'), storageDecl(1, 'rhs', 'read'), partial ? '' : epilogue.bindings(2), storageDecl(outBinding, 'out', 'read_write')]
          .filter(Boolean).join('\n'),
        META: metaPrelude(outBinding + 1, META_WORDS),
        TK,
        A_KFAST: String(g.aKFast),
        B_NFAST: String(g.bNFast),
        LOADERS: g.loaders(),
        EPILOGUE: partial ? 'fn finish(i: u32, v: f32) -> f32 { return v; }' : epilogue.wgsl(),
      }),
  };
}

/**
 * Runs a GEMM through matmul.wgsl (with a split-K pass when that pays); returns its output.
 * With `into`, the GEMM writes its rows (placed by the loaders' outRow) into that existing
 * output instead, in one dispatch and without splitting K (a split's second pass would
 * rewrite the whole output): several GEMMs then fill one tensor (the phases of a strided
 * Conv2DBackpropInput).
 */
export function runGemm(backend: TesseraWebGpuBackend, g: Gemm, into?: TensorInfo): TensorInfo {
  const { M, N, K, batch } = g;
  const outputs = into === undefined ? batch * M * N : util.sizeFromShape(into.shape);
  if (into === undefined && outputs === 0) return backend.makeOutput(g.outShape, 'float32');
  const tilesM = Math.ceil(M / TILE);
  const tilesN = Math.ceil(N / TILE);
  const tiles = tilesM * tilesN * batch;
  const { splits, chunk } = into !== undefined ? { splits: 1, chunk: Math.max(TK, Math.ceil(K / TK) * TK) }
    : splitsFor(tiles, K, outputs, backend.device.limits.maxStorageBufferBindingSize);
  const meta = new Meta().u32(M, N, K, batch, tilesM, tilesN, chunk, outputs);
  g.loaderWords(meta);
  padMeta(meta, EPILOGUE_WORD);
  g.epilogue.write(meta);
  const params = padMeta(meta, META_WORDS).build();
  const [x, y] = workgroupsFor(tiles, 1, backend.device.limits.maxComputeWorkgroupsPerDimension);
  const inputs = [g.lhs, g.rhs, ...g.epilogue.inputs];
  if (into !== undefined) {
    if (tiles > 0) {
      const buffers = [...inputs, into].map((t) => backend.gpuBuffer(t));
      backend.device.dispatch(gemmProgram(g, g.epilogue, false), buffers, params, [x, y, 1]);
    }
    return into;
  }
  if (splits === 1) {
    return backend.runProgram(gemmProgram(g, g.epilogue, false), inputs, g.outShape, 'float32', params, [x, y, 1]);
  }
  const part = backend.runProgram(gemmProgram(g, g.epilogue, true), [g.lhs, g.rhs], [splits, outputs], 'float32', params, [x, y, splits]);
  try {
    return reduceSplits(backend, part, splits, outputs, g.epilogue, g.outShape);
  } finally {
    backend.disposeIntermediateTensorInfo(part);
  }
}

function reduceSplits(backend: TesseraWebGpuBackend, part: TensorInfo, splits: number, outputs: number, epilogue: Epilogue,
  outShape: number[]): TensorInfo {
  const outBinding = 1 + epilogue.inputs.length;
  const program: Program = {
    key: `gemm-reduce/${epilogue.key}`,
    wgsl: () =>
      fillTemplate(wgslSource('matmul_reduce'), {
        BINDINGS: [storageDecl(0, 'part', 'read'), epilogue.bindings(1), storageDecl(outBinding, 'out', 'read_write')].filter(Boolean).join('\n'),
        META: metaPrelude(outBinding + 1, META_WORDS),
        EPILOGUE: epilogue.wgsl(),
      }),
  };
  const meta = padMeta(new Meta().u32(outputs, splits), EPILOGUE_WORD);
  epilogue.write(meta);
  return backend.runProgram(program, [part, ...epilogue.inputs], outShape, 'float32', padMeta(meta, META_WORDS).build(), workgroupsFor(outputs, 256));
}

/** Binding declarations for a kernel reading `inputs` (f32 arrays) then the epilogue's. */
export function bindingsFor(names: string[], epilogue: Epilogue): { text: string; metaBinding: number } {
  const lines = names.map((name, i) => storageDecl(i, name, 'read'));
  const extra = epilogue.bindings(names.length);
  if (extra) lines.push(extra);
  const outBinding = names.length + epilogue.inputs.length;
  lines.push(storageDecl(outBinding, 'out', 'read_write'));
  return { text: lines.join('\n'), metaBinding: outBinding + 1 };
}

export { META_WORDS };
