// Conv2D, FusedConv2D and the two Conv2D gradients on CUDA (kernels/cuda/conv2d.cu: implicit
// GEMM over NHWC). Geometry comes from tfjs's computeConv2DInfo through resolveConv2D, as on
// tessera-cpu; NCHW, prelu and biases that are not one value per output channel take the CPU path.
import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { cudaKernelConfig } from '../../backend_cuda.js';
import { resolveConv2D, type ConvGeometry, type ConvOptions } from '../../../kernels/conv.js';
import type { CudaActivation } from '../../../native.js';

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid']);

type Attrs = Record<string, unknown>;

function options(attrs: Attrs, dilations: unknown): ConvOptions {
  return { strides: attrs.strides as ConvOptions['strides'], pad: attrs.pad as ConvOptions['pad'],
    dilations: dilations as ConvOptions['dilations'], dimRoundingMode: attrs.dimRoundingMode as ConvOptions['dimRoundingMode'] };
}

/** The geometry when the CUDA kernels take these attrs (tfjs requires strides and pad), else undefined. */
function geometry(inShape: readonly number[], filterShape: readonly number[], attrs: Attrs, dilations: unknown): ConvGeometry | undefined {
  if (attrs.strides == null || attrs.pad == null || dilations == null) return undefined;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return undefined;
  try {
    return resolveConv2D('', inShape, filterShape, options(attrs, dilations), false);
  } catch {
    return undefined;
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function forward(kernelName: string, fused: boolean): KernelConfig {
  return cudaKernelConfig(kernelName, ({ inputs, attrs = {} }, backend) => {
    const { x, filter, bias } = inputs as Record<string, TensorInfo | undefined>;
    const a = attrs as Attrs;
    if (x!.dtype !== 'float32' || filter!.dtype !== 'float32') return null;
    const g = geometry(x!.shape, filter!.shape, a, a.dilations);
    if (g === undefined) return null;
    const activation = fused ? ((a.activation ?? 'linear') as string) : 'linear';
    if (!ACTIVATIONS.has(activation)) return null;
    const oc = filter!.shape[3];
    if (bias != null && (bias.dtype !== 'float32' || util.sizeFromShape(bias.shape) !== oc || (bias.shape.length > 0 && bias.shape[bias.shape.length - 1] !== oc))) return null;
    const leaky = typeof a.leakyreluAlpha === 'number' ? a.leakyreluAlpha : 0.2;
    const kx = backend.cudaBuffer(x!), kw = backend.cudaBuffer(filter!);
    const kb = bias == null ? null : backend.cudaBuffer(bias);
    return backend.launch(g.outShape, 'float32', (out) =>
      backend.device.kernels.cudaConv2d(kx, x!.shape, kw, filter!.shape, out, g.geometry, kb, activation as CudaActivation, leaky));
  });
}

export const convKernelConfigs: KernelConfig[] = [
  forward('Conv2D', false),
  forward('FusedConv2D', true),
  cudaKernelConfig('Conv2DBackpropInput', ({ inputs, attrs = {} }, backend) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as Attrs;
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
    const inputShape = a.inputShape as number[];
    const g = geometry(inputShape, filter.shape, a, 1);
    if (g === undefined || !sameShape(g.outShape, dy.shape)) return null;
    const kdy = backend.cudaBuffer(dy), kw = backend.cudaBuffer(filter);
    return backend.launch([...inputShape], 'float32', (dx) =>
      backend.device.kernels.cudaConv2dBackpropInput(kdy, dy.shape, kw, filter.shape, dx, inputShape, g.geometry));
  }),
  cudaKernelConfig('Conv2DBackpropFilter', ({ inputs, attrs = {} }, backend) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as Attrs;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
    const filterShape = a.filterShape as number[];
    const g = geometry(x.shape, filterShape, a, 1);
    if (g === undefined || !sameShape(g.outShape, dy.shape)) return null;
    const kx = backend.cudaBuffer(x), kdy = backend.cudaBuffer(dy);
    return backend.launch([...filterShape], 'float32', (dw) =>
      backend.device.kernels.cudaConv2dBackpropFilter(kx, x.shape, kdy, dy.shape, dw, filterShape, g.geometry));
  }),
];
