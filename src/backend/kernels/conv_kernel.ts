// Shared adapter for the convolution kernels: tfjs attrs -> the direct kernel API over views
// of the inputs -> an adopted output. Whatever the native kernels do not take goes to
// tfjs-backend-cpu, which then also raises tfjs's own errors: other dtypes, NCHW, geometry
// tfjs-backend-cpu computes differently (depthwise gradients with dilations, which it ignores
// in its loops), or attrs it would reject.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import {
  broadcastsTo, conv2d, conv2dBackpropFilter, conv2dBackpropInput, depthwiseConv2d, depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput, resolveConv2D, type ConvOptions, type FusedActivation,
} from '../../kernels/conv.js';
import { sameShape } from '../../kernels/array.js';
import { nativeKernelConfig, type KernelArgs } from '../fallback.js';

const ACTIVATIONS = new Set<unknown>(['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu']);

type Attrs = Record<string, unknown>;

function convOptions(attrs: Attrs, dilations: unknown): ConvOptions {
  return {
    strides: attrs.strides as ConvOptions['strides'],
    pad: attrs.pad as ConvOptions['pad'],
    dilations: dilations as ConvOptions['dilations'],
    dimRoundingMode: attrs.dimRoundingMode as ConvOptions['dimRoundingMode'],
  };
}

/**
 * The output shape if the native kernels take this geometry, else undefined. Attrs tfjs
 * requires stay required here (the direct API would default them; tfjs throws).
 */
function nativeOutShape(inShape: readonly number[], filterShape: readonly number[], options: ConvOptions,
  depthwise: boolean): number[] | undefined {
  if (options.strides == null || options.pad == null || options.dilations == null) return undefined;
  try {
    return resolveConv2D('', inShape, filterShape, options, depthwise).outShape;
  } catch {
    return undefined;
  }
}

/** 1 or [1, 1] (strides or dilations, already validated as positive integers or pairs of them). */
const isUnit = (v: unknown) => v === 1 || (Array.isArray(v) && v.every((d) => d === 1));
const isFloat = (t: TensorInfo | undefined | null) => t != null && t.dtype === 'float32';

function forwardDilations(attrs: Attrs, depthwise: boolean): unknown {
  // tfjs-backend-cpu's depthwise kernel defaults missing dilations to 1; Conv2D passes them on.
  return depthwise ? (attrs.dilations ?? 1) : attrs.dilations;
}

/** Conv2D, FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2D. */
export function convForwardConfig(kernelName: string, depthwise: boolean, fused: boolean): KernelConfig {
  return nativeKernelConfig(
    kernelName,
    ({ inputs, attrs = {} }: KernelArgs) => {
      const { x, filter, bias, preluActivationWeights: alpha } = inputs as Record<string, TensorInfo | undefined>;
      if (!isFloat(x) || !isFloat(filter)) return false;
      // Depthwise kernels read NHWC whatever dataFormat says, as tfjs-backend-cpu's do.
      if (!depthwise && attrs.dataFormat !== 'NHWC') return false;
      const dilations = forwardDilations(attrs, depthwise);
      const outShape = nativeOutShape(x!.shape, filter!.shape, convOptions(attrs, dilations), depthwise);
      if (outShape === undefined) return false;
      // tfjs-backend-cpu's depthwise kernel refuses strides and dilations both above 1.
      if (depthwise && !isUnit(attrs.strides) && !isUnit(dilations)) return false;
      if (!fused) return true;
      const { activation, leakyreluAlpha } = attrs;
      if (bias != null && !(isFloat(bias) && broadcastsTo(bias.shape, outShape))) return false;
      if (activation != null && !ACTIVATIONS.has(activation)) return false;
      if (activation === 'prelu' && !(isFloat(alpha) && broadcastsTo(alpha!.shape, outShape))) return false;
      if (activation === 'leakyrelu' && typeof leakyreluAlpha !== 'number') return false;
      return true;
    },
    ({ inputs, attrs = {} }, backend) => {
      const { x, filter, bias, preluActivationWeights: alpha } = inputs as Record<string, TensorInfo | undefined>;
      const options = convOptions(attrs, forwardDilations(attrs, depthwise));
      const activation = (attrs.activation ?? 'linear') as FusedActivation;
      const fusedOptions = fused ? {
        bias: bias == null ? undefined : backend.view(bias),
        activation,
        preluActivationWeights: activation === 'prelu' ? backend.view(alpha!) : undefined,
        leakyreluAlpha: activation === 'leakyrelu' ? (attrs.leakyreluAlpha as number) : undefined,
      } : {};
      const run = depthwise ? depthwiseConv2d : conv2d;
      return backend.adopt(run(backend.view(x!), backend.view(filter!), { ...options, ...fusedOptions }));
    },
  );
}

/** Conv2DBackpropInput and DepthwiseConv2dNativeBackpropInput. */
export function convBackpropInputConfig(kernelName: string, depthwise: boolean): KernelConfig {
  return nativeKernelConfig(
    kernelName,
    ({ inputs, attrs = {} }: KernelArgs) => {
      const { dy, filter } = inputs as Record<string, TensorInfo | undefined>;
      if (!isFloat(dy) || !isFloat(filter)) return false;
      if (depthwise ? !isUnit(attrs.dilations ?? 1) : attrs.dataFormat !== 'NHWC') return false;
      const outShape = nativeOutShape(attrs.inputShape as number[], filter!.shape, convOptions(attrs, 1), depthwise);
      return outShape !== undefined && sameShape(outShape, dy!.shape);
    },
    ({ inputs, attrs = {} }, backend) => {
      const { dy, filter } = inputs as Record<string, TensorInfo>;
      const run = depthwise ? depthwiseConv2dBackpropInput : conv2dBackpropInput;
      return backend.adopt(run(backend.view(dy), backend.view(filter), attrs.inputShape as number[], convOptions(attrs, 1)));
    },
  );
}

/** Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter. */
export function convBackpropFilterConfig(kernelName: string, depthwise: boolean): KernelConfig {
  return nativeKernelConfig(
    kernelName,
    ({ inputs, attrs = {} }: KernelArgs) => {
      const { x, dy } = inputs as Record<string, TensorInfo | undefined>;
      if (!isFloat(x) || !isFloat(dy)) return false;
      if (depthwise ? !isUnit(attrs.dilations ?? 1) : attrs.dataFormat !== 'NHWC') return false;
      const outShape = nativeOutShape(x!.shape, attrs.filterShape as number[], convOptions(attrs, 1), depthwise);
      return outShape !== undefined && sameShape(outShape, dy!.shape);
    },
    ({ inputs, attrs = {} }, backend) => {
      const { x, dy } = inputs as Record<string, TensorInfo>;
      const run = depthwise ? depthwiseConv2dBackpropFilter : conv2dBackpropFilter;
      return backend.adopt(run(backend.view(x), backend.view(dy), attrs.filterShape as number[], convOptions(attrs, 1)));
    },
  );
}
