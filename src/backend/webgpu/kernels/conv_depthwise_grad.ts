// The gradients of DepthwiseConv2dNative on tessera-webgpu, as direct kernels:
// DepthwiseConv2dNativeBackpropInput (kernels/wgsl/depthwise_backprop_input.wgsl), one
// invocation per dx element over the taps and multipliers that reach it, and
// DepthwiseConv2dNativeBackpropFilter (kernels/wgsl/depthwise_backprop_filter.wgsl), one
// workgroup per filter element reducing over the batch and the output pixels.
//
// Geometry comes from backend_util.computeConv2DInfo with depthwise = true, as in
// tfjs-backend-cpu. What runs on tessera-cpu instead (returning null): dtypes other than
// float32, dilations other than 1 (tfjs-backend-cpu's kernels compute the geometry with them
// but then read the taps undilated; that is left to it), geometry tfjs rejects, and inputs
// whose shapes do not agree with the geometry (a dy that is not the convolution's output,
// mismatched channels): tfjs-backend-cpu then decides what happens.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';

type Attrs = Record<string, unknown>;
type Shape4 = [number, number, number, number];

/** computeConv2DInfo as tfjs-backend-cpu calls it for the depthwise gradients, or null where the WGSL does not apply. */
function depthwiseInfo(inShape: readonly number[] | undefined, filterShape: readonly number[] | undefined, attrs: Attrs): backend_util.Conv2DInfo | null {
  if (inShape == null || filterShape == null || inShape.length !== 4 || filterShape.length !== 4) return null;
  const dilations = attrs.dilations as number | [number, number] | undefined;
  if (dilations == null || !backend_util.tupleValuesAreOne(dilations)) return null;
  if (inShape[3] !== filterShape[2]) return null;
  try {
    return backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, attrs.strides as [number, number], dilations,
      attrs.pad as 'same', attrs.dimRoundingMode as 'floor', true, 'channelsLast');
  } catch {
    return null;
  }
}

export const depthwiseGradKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(DepthwiseConv2dNativeBackpropInput, ({ inputs, attrs = {} }, backend) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
    const c = depthwiseInfo(attrs.inputShape as number[], filter.shape, attrs);
    if (c === null || !util.arraysEqual(c.outShape, dy.shape)) return null;
    const outShape = c.inShape as number[];
    const size = util.sizeFromShape(outShape);
    if (size === 0) return backend.makeOutput(outShape, 'float32');
    // An empty dy or filter (no output pixels, a multiplier of 0) sums nothing: zeros, which
    // need no kernel (and an empty buffer cannot be bound).
    if (util.sizeFromShape(dy.shape) === 0 || util.sizeFromShape(filter.shape) === 0) return backend.makeTensorInfo(outShape, 'float32');
    const meta = new Meta().u32(size, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth)
      .i32(c.padInfo.top, c.padInfo.left).u32(c.filterHeight, c.filterWidth, c.outChannels / c.inChannels);
    const program = templateProgram('depthwise-backprop-input', 'depthwise_backprop_input', 3, meta.length);
    return backend.runProgram(program, [dy, filter], outShape, 'float32', meta.build(), workgroupsFor(size, 256));
  }),
  gpuKernelConfig(DepthwiseConv2dNativeBackpropFilter, ({ inputs, attrs = {} }, backend) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
    const c = depthwiseInfo(x.shape, attrs.filterShape as number[], attrs);
    if (c === null || !util.arraysEqual(c.outShape, dy.shape)) return null;
    const outShape = c.filterShape as number[];
    const size = util.sizeFromShape(outShape);
    if (size === 0) return backend.makeOutput(outShape, 'float32');
    // No pixels to sum over (an empty batch or output): zeros, which need no kernel (and an
    // empty buffer cannot be bound).
    if (util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) return backend.makeTensorInfo(outShape, 'float32');
    const meta = new Meta().u32(size, c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth)
      .i32(c.padInfo.top, c.padInfo.left).u32(c.filterWidth, c.outChannels / c.inChannels);
    const program = templateProgram('depthwise-backprop-filter', 'depthwise_backprop_filter', 3, meta.length);
    // One workgroup of 256 per filter element.
    return backend.runProgram(program, [x, dy], outShape, 'float32', meta.build(), workgroupsFor(size * 256, 256));
  }),
];
