// Conv2D, FusedConv2D, Conv2DBackpropInput and Conv2DBackpropFilter as implicit GEMMs: the
// tiled GEMM of matmul.wgsl with loaders that address the NHWC tensors in place
// (conv_forward.wgsl, conv_backprop_input.wgsl, conv_backprop_filter.wgsl): no im2col
// buffer. A strided Conv2DBackpropInput runs one GEMM per stride phase, over only the taps
// that reach the phase's pixels. Convolutions that are plain matrix products (1x1 filters at
// stride 1 without padding, or a filter covering the whole input) take the matmul loaders.
// DepthwiseConv2dNative and FusedDepthwiseConv2D run a direct kernel (conv_depthwise.wgsl).
//
// Geometry comes from tfjs-core's backend_util.computeConv2DInfo, as in tfjs-backend-cpu.
// What runs on tessera-cpu instead (returning null): NCHW, dtypes other than float32, shapes
// tfjs-backend-cpu would reject or compute differently (mismatched channels, a dy whose shape
// is not the convolution's output), bias or prelu weights that would enlarge the output.
// Known difference: the implicit GEMMs multiply the taps that fall in the padding by 0 where
// tfjs-backend-cpu skips them, so an infinite or NaN filter weight (or dy value, for the
// filter gradient) meeting the padding gives NaN here; finite values give the same sums.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { fillTemplate, Meta, metaPrelude, wgslSource } from '../wgsl.js';
import { matmulKernelConfigs, plainGemm } from './matmul.js';
import { bindingsFor, EPILOGUE_WORD, makeEpilogue, META_WORDS, NO_EPILOGUE, padMeta, runGemm, type EpilogueSpec } from './matmul_gemm.js';

type Attrs = Record<string, unknown>;
type Shape4 = [number, number, number, number];

const isFloat = (t: TensorInfo | null | undefined): t is TensorInfo => t != null && t.dtype === 'float32';

/** computeConv2DInfo as tfjs-backend-cpu calls it, or null where it throws (the fallback then raises tfjs's error). */
function convInfo(inShape: readonly number[], filterShape: readonly number[], attrs: Attrs, dilations: unknown, depthwise: boolean): backend_util.Conv2DInfo | null {
  if (inShape.length !== 4 || filterShape.length !== 4) return null;
  try {
    return backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, attrs.strides as [number, number], dilations as [number, number],
      attrs.pad as 'same', attrs.dimRoundingMode as 'floor', depthwise, 'channelsLast');
  } catch {
    return null;
  }
}

/** Whether every index of the output reads the input without padding, stride or dilation (a 1x1 product). */
function isPointwise(c: backend_util.Conv2DInfo): boolean {
  const p = c.padInfo;
  return c.filterHeight === 1 && c.filterWidth === 1 && c.strideHeight === 1 && c.strideWidth === 1 &&
    p.top === 0 && p.left === 0 && c.outHeight === c.inHeight && c.outWidth === c.inWidth;
}

/** Whether the filter covers the whole input at its only position (a dense layer over the flattened image). */
function coversInput(c: backend_util.Conv2DInfo): boolean {
  const p = c.padInfo;
  return c.outHeight === 1 && c.outWidth === 1 && c.filterHeight === c.inHeight && c.filterWidth === c.inWidth && p.top === 0 && p.left === 0;
}

function conv2dForward(backend: TesseraWebGpuBackend, x: TensorInfo, filter: TensorInfo, attrs: Attrs, spec: EpilogueSpec | null): TensorInfo | null {
  if (!isFloat(x) || !isFloat(filter) || attrs.dataFormat !== 'NHWC') return null;
  const c = convInfo(x.shape, filter.shape, attrs, attrs.dilations, false);
  if (c === null || x.shape[3] !== filter.shape[2]) return null;
  const outShape = c.outShape as number[];
  const epilogue = spec === null ? NO_EPILOGUE : makeEpilogue(spec, outShape);
  if (epilogue === null) return null;
  const M = c.batchSize * c.outHeight * c.outWidth;
  const N = c.outChannels;
  const K = c.filterHeight * c.filterWidth * c.inChannels;
  if (M * N === 0) return backend.makeOutput(outShape, 'float32');
  if (isPointwise(c)) return plainGemm(backend, x, filter, M, N, K, false, false, epilogue, outShape);
  if (coversInput(c) && c.dilationHeight === 1 && c.dilationWidth === 1) {
    return plainGemm(backend, x, filter, M, N, K, false, false, epilogue, outShape);
  }
  return runGemm(backend, {
    loadersKey: 'conv2d',
    loaders: () => wgslSource('conv_forward'),
    // x is contiguous along the input channel, i.e. along k; the filter along n.
    aKFast: true,
    bNFast: true,
    lhs: x,
    rhs: filter,
    M,
    N,
    K,
    batch: 1,
    loaderWords: (meta) => meta.u32(c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth)
      .i32(c.padInfo.top, c.padInfo.left).u32(c.dilationHeight, c.dilationWidth, c.filterWidth),
    epilogue,
    outShape,
  });
}

function conv2dBackpropInput(backend: TesseraWebGpuBackend, dy: TensorInfo, filter: TensorInfo, attrs: Attrs): TensorInfo | null {
  if (!isFloat(dy) || !isFloat(filter) || attrs.dataFormat !== 'NHWC') return null;
  const inputShape = attrs.inputShape as number[];
  // tfjs-backend-cpu computes the gradient with dilations 1.
  const c = convInfo(inputShape, filter.shape, attrs, 1, false);
  if (c === null || !util.arraysEqual(c.outShape, dy.shape) || inputShape[3] !== filter.shape[2]) return null;
  const outShape = c.inShape as number[];
  const M = c.batchSize * c.inHeight * c.inWidth;
  const N = c.inChannels;
  const K = c.filterHeight * c.filterWidth * c.outChannels;
  if (M * N === 0) return backend.makeOutput(outShape, 'float32');
  // dx = dy [M, outC] x filter^T, the filter being [inC, outC].
  if (isPointwise(c)) return plainGemm(backend, dy, filter, M, N, K, false, true, NO_EPILOGUE, outShape);
  // One GEMM per stride phase, each writing its own pixels of dx (see conv_backprop_input.wgsl).
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;
  const mod = (a: number, n: number) => ((a % n) + n) % n;
  const gemm = (rh: number, rw: number, into?: TensorInfo): TensorInfo | undefined => {
    // The phase's first pixel, how many there are, its taps, and the output row its first tap reads.
    const ih0 = mod(rh - pt, sh);
    const iw0 = mod(rw - pl, sw);
    const rowsH = ih0 < c.inHeight ? Math.ceil((c.inHeight - ih0) / sh) : 0;
    const rowsW = iw0 < c.inWidth ? Math.ceil((c.inWidth - iw0) / sw) : 0;
    const tapsH = rh < fh ? Math.ceil((fh - rh) / sh) : 0;
    const tapsW = rw < fw ? Math.ceil((fw - rw) / sw) : 0;
    const baseH = (ih0 + pt - rh) / sh;
    const baseW = (iw0 + pl - rw) / sw;
    const phaseM = c.batchSize * rowsH * rowsW;
    if (phaseM === 0) return undefined;
    // A phase without taps still writes its pixels (zeros): a GEMM over K = 0.
    return runGemm(backend, {
      loadersKey: 'conv2d-backprop-input',
      loaders: () => wgslSource('conv_backprop_input'),
      // dy and the filter are both contiguous along the output channel, i.e. along k.
      aKFast: true,
      bNFast: false,
      lhs: dy,
      rhs: filter,
      M: phaseM,
      N,
      K: tapsH * tapsW * c.outChannels,
      batch: 1,
      loaderWords: (meta) => meta.u32(c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.outChannels, sh, sw, fw,
        rh, rw, ih0, iw0, rowsH, rowsW, tapsW).i32(baseH, baseW),
      epilogue: NO_EPILOGUE,
      outShape,
    }, into);
  };
  // Stride 1: one phase, the whole of dx (and K may be split).
  if (sh === 1 && sw === 1) return gemm(0, 0)!;
  const dx = backend.makeOutput(outShape, 'float32');
  try {
    for (let rh = 0; rh < sh; rh++) for (let rw = 0; rw < sw; rw++) gemm(rh, rw, dx);
  } catch (e) {
    backend.disposeIntermediateTensorInfo(dx);
    throw e;
  }
  return dx;
}

function conv2dBackpropFilter(backend: TesseraWebGpuBackend, x: TensorInfo, dy: TensorInfo, attrs: Attrs): TensorInfo | null {
  if (!isFloat(x) || !isFloat(dy) || attrs.dataFormat !== 'NHWC') return null;
  const filterShape = attrs.filterShape as number[];
  const c = convInfo(x.shape, filterShape, attrs, 1, false);
  if (c === null || !util.arraysEqual(c.outShape, dy.shape) || x.shape[3] !== filterShape[2]) return null;
  const outShape = c.filterShape as number[];
  const M = c.filterHeight * c.filterWidth * c.inChannels;
  const N = c.outChannels;
  const K = c.batchSize * c.outHeight * c.outWidth;
  if (M * N === 0) return backend.makeOutput(outShape, 'float32');
  // dW = x^T [inC, pixels] x dy [pixels, outC].
  if (isPointwise(c)) return plainGemm(backend, x, dy, M, N, K, true, false, NO_EPILOGUE, outShape);
  return runGemm(backend, {
    loadersKey: 'conv2d-backprop-filter',
    loaders: () => wgslSource('conv_backprop_filter'),
    // x is contiguous along the input channel, i.e. along m; dy along n.
    aKFast: false,
    bNFast: true,
    lhs: x,
    rhs: dy,
    M,
    N,
    K,
    batch: 1,
    loaderWords: (meta) => meta.u32(c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth)
      .i32(c.padInfo.top, c.padInfo.left).u32(c.filterWidth),
    epilogue: NO_EPILOGUE,
    outShape,
  });
}

function depthwiseForward(backend: TesseraWebGpuBackend, x: TensorInfo, filter: TensorInfo, attrs: Attrs, spec: EpilogueSpec | null): TensorInfo | null {
  if (!isFloat(x) || !isFloat(filter) || attrs.dataFormat === 'NCHW') return null;
  // tfjs-backend-cpu's defaults and checks: dilations 1 when missing, strides or dilations 1.
  const dilations = (attrs.dilations ?? [1, 1]) as number | [number, number];
  if (!backend_util.eitherStridesOrDilationsAreOne(attrs.strides as [number, number], dilations)) return null;
  const c = convInfo(x.shape, filter.shape, attrs, dilations, true);
  if (c === null || x.shape[3] !== filter.shape[2]) return null;
  const outShape = c.outShape as number[];
  const epilogue = spec === null ? NO_EPILOGUE : makeEpilogue(spec, outShape);
  if (epilogue === null) return null;
  const outputs = util.sizeFromShape(outShape);
  if (outputs === 0) return backend.makeOutput(outShape, 'float32');
  const { text, metaBinding } = bindingsFor(['x', 'w'], epilogue);
  const program = {
    key: `depthwise/${epilogue.key}`,
    wgsl: () => fillTemplate(wgslSource('conv_depthwise'), { BINDINGS: text, META: metaPrelude(metaBinding, META_WORDS), EPILOGUE: epilogue.wgsl() }),
  };
  const meta = new Meta().u32(outputs, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.outChannels, c.strideHeight, c.strideWidth)
    .i32(c.padInfo.top, c.padInfo.left).u32(c.dilationHeight, c.dilationWidth, c.filterHeight, c.filterWidth, c.outChannels / c.inChannels);
  padMeta(meta, EPILOGUE_WORD);
  epilogue.write(meta);
  return backend.runProgram(program, [x, filter, ...epilogue.inputs], outShape, 'float32', padMeta(meta, META_WORDS).build(), workgroupsFor(outputs, 256));
}

type FusedInputs = { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };

function fusedSpec(inputs: FusedInputs, attrs: Attrs): EpilogueSpec {
  return { bias: inputs.bias, preluActivationWeights: inputs.preluActivationWeights, activation: attrs.activation as string | undefined,
    leakyreluAlpha: attrs.leakyreluAlpha as number | undefined };
}

export const convKernelConfigs: KernelConfig[] = [
  gpuKernelConfig('Conv2D', ({ inputs, attrs = {} }, backend) => {
    const { x, filter } = inputs as FusedInputs;
    return conv2dForward(backend, x, filter, attrs, null);
  }),
  gpuKernelConfig('FusedConv2D', ({ inputs, attrs = {} }, backend) => {
    const i = inputs as FusedInputs;
    return conv2dForward(backend, i.x, i.filter, attrs, fusedSpec(i, attrs));
  }),
  gpuKernelConfig('Conv2DBackpropInput', ({ inputs, attrs = {} }, backend) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    return conv2dBackpropInput(backend, dy, filter, attrs);
  }),
  gpuKernelConfig('Conv2DBackpropFilter', ({ inputs, attrs = {} }, backend) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    return conv2dBackpropFilter(backend, x, dy, attrs);
  }),
  gpuKernelConfig('DepthwiseConv2dNative', ({ inputs, attrs = {} }, backend) => {
    const { x, filter } = inputs as FusedInputs;
    return depthwiseForward(backend, x, filter, attrs, null);
  }),
  gpuKernelConfig('FusedDepthwiseConv2D', ({ inputs, attrs = {} }, backend) => {
    const i = inputs as FusedInputs;
    return depthwiseForward(backend, i.x, i.filter, attrs, fusedSpec(i, attrs));
  }),
];

/** The whole family (matrix products and convolutions), registered with one line. */
export const matmulConvKernelConfigs: KernelConfig[] = [...matmulKernelConfigs, ...convKernelConfigs];
