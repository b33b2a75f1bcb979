// 2-D convolutions over NHWC arrays: conv2d (with fused bias and activation), depthwise
// conv2d, and the gradients of both. Strides, padding and output size resolve exactly as
// tfjs resolves them (backend_util.computeConv2DInfo); the native side gets the numbers.
import { backend_util } from '@tensorflow/tfjs-core';

import { declareCpuOp } from '../device/cpu.js';
import { native } from '../native.js';
import { DeviceArray, empty, sameShape } from './array.js';
import { checkArray, checkDType, checkRank, describe } from './validate.js';

for (const op of [
  'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D',
  'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter',
]) declareCpuOp(op);

/** [[0, 0], [top, bottom], [left, right], [0, 0]], as tfjs writes explicit NHWC padding. */
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
export type ConvPadding = 'same' | 'valid' | number | ExplicitPadding;
export type FusedActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';
const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];

export interface ConvOptions {
  /** Default 1. */
  strides?: number | [number, number];
  /** Default 'valid'. */
  pad?: ConvPadding;
  /** Default 1. */
  dilations?: number | [number, number];
  /** How a fractional output size rounds with numeric or explicit padding (tfjs's default: truncation). */
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export interface FusedConvOptions extends ConvOptions {
  /** Added to the result; any shape that broadcasts to the output's. */
  bias?: DeviceArray;
  /** Default 'linear'. */
  activation?: FusedActivation;
  /** prelu's slopes; any shape that broadcasts to the output's. */
  preluActivationWeights?: DeviceArray;
  /** leakyrelu's slope; default 0.2. */
  leakyreluAlpha?: number;
}

/** Resolved geometry: what the native kernels take. */
export interface ConvGeometry {
  /** [strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW] */
  geometry: number[];
  /** Input [N, H, W, C] and output [N, OH, OW, OC]. */
  inShape: number[];
  outShape: number[];
}

function pairOf(op: string, arg: string, v: unknown): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : undefined;
  if (pair === undefined || !pair.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${op}: expected a positive integer or a pair of them for ${arg} but got ${JSON.stringify(v) ?? describe(v)}`);
  }
  return pair as [number, number];
}

function checkPadding(op: string, pad: unknown): asserts pad is ConvPadding {
  if (pad === 'same' || pad === 'valid') return;
  if (typeof pad === 'number' && Number.isInteger(pad) && pad >= 0) return;
  const isPair = (p: unknown) => Array.isArray(p) && p.length === 2 && p.every((d) => Number.isInteger(d) && d >= 0);
  if (Array.isArray(pad) && pad.length === 4 && pad.every(isPair) && pad[0][0] === 0 && pad[0][1] === 0 && pad[3][0] === 0 &&
      pad[3][1] === 0) return;
  throw new Error(`${op}: expected 'same', 'valid', a non-negative integer or [[0, 0], [top, bottom], [left, right], [0, 0]] ` +
    `for pad but got ${JSON.stringify(pad) ?? describe(pad)}`);
}

function checkShape(op: string, arg: string, shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: expected a shape of 4 non-negative integers for ${arg} but got ${JSON.stringify(shape) ?? describe(shape)}`);
  }
}

/**
 * The geometry of a convolution of an NHWC input of `inShape` with a filter of `filterShape`
 * ([KH, KW, C, OC], depthwise [KH, KW, C, multiplier]); throws naming `op` for what does not fit.
 */
export function resolveConv2D(op: string, inShape: readonly number[], filterShape: readonly number[], options: ConvOptions,
  depthwise: boolean): ConvGeometry {
  if (options === null || typeof options !== 'object') throw new Error(`${op}: expected an options object but got ${describe(options)}`);
  checkShape(op, 'the input shape', inShape);
  checkShape(op, 'the filter shape', filterShape);
  if (filterShape[2] !== inShape[3]) {
    throw new Error(`${op}: expected filter.shape[2] equal to the input channels (${inShape[3]}) but got filter shape [${filterShape}]`);
  }
  const strides = pairOf(op, 'strides', options.strides ?? 1);
  const dilations = pairOf(op, 'dilations', options.dilations ?? 1);
  const pad = options.pad ?? 'valid';
  checkPadding(op, pad);
  const rounding = options.dimRoundingMode ?? undefined;
  if (rounding !== undefined && rounding !== 'floor' && rounding !== 'round' && rounding !== 'ceil') {
    throw new Error(`${op}: expected 'floor', 'round' or 'ceil' for dimRoundingMode but got ${describe(rounding)}`);
  }
  const info = backend_util.computeConv2DInfo(inShape as [number, number, number, number],
    filterShape as [number, number, number, number], strides, dilations, pad, rounding, depthwise, 'channelsLast');
  if (!(Number.isInteger(info.outHeight) && Number.isInteger(info.outWidth) && info.outHeight >= 0 && info.outWidth >= 0)) {
    throw new Error(`${op}: expected a filter that fits the padded input but got output size ${info.outHeight}x${info.outWidth} ` +
      `(input [${inShape}], filter [${filterShape}])`);
  }
  return {
    geometry: [strides[0], strides[1], dilations[0], dilations[1], info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth],
    inShape: [...inShape],
    outShape: [inShape[0], info.outHeight, info.outWidth, info.outChannels],
  };
}

/** Whether `shape` broadcasts to `outShape` without changing it. */
export function broadcastsTo(shape: readonly number[], outShape: readonly number[]): boolean {
  if (shape.length > outShape.length) return false;
  const lead = outShape.length - shape.length;
  return shape.every((d, i) => d === 1 || d === outShape[lead + i]);
}

function checkFloatArray(op: string, arg: string, x: unknown, rank?: number): asserts x is DeviceArray<'float32'> {
  checkArray(op, arg, x);
  checkDType(op, arg, x, ['float32']);
  if (rank !== undefined) checkRank(op, arg, x, rank);
}

function checkEpilogueOperand(op: string, arg: string, v: unknown, outShape: readonly number[]): asserts v is DeviceArray<'float32'> {
  checkFloatArray(op, arg, v);
  if (!broadcastsTo(v.shape, outShape)) {
    throw new Error(`${op}: expected a shape that broadcasts to the output shape [${outShape}] for ${arg} but got [${v.shape}]`);
  }
}

type NativeForward = typeof native.conv2d;

function forward(op: string, fn: NativeForward, x: DeviceArray, filter: DeviceArray, options: FusedConvOptions,
  depthwise: boolean): DeviceArray {
  checkFloatArray(op, 'x', x, 4);
  checkFloatArray(op, 'filter', filter, 4);
  const { geometry, outShape } = resolveConv2D(op, x.shape, filter.shape, options, depthwise);
  const activation = options.activation ?? 'linear';
  if (!ACTIVATIONS.includes(activation)) {
    throw new Error(`${op}: expected one of ${ACTIVATIONS.join(', ')} for activation but got ${JSON.stringify(activation) ?? describe(activation)}`);
  }
  const { bias, preluActivationWeights: alpha } = options;
  if (bias !== undefined) checkEpilogueOperand(op, 'bias', bias, outShape);
  if (activation === 'prelu') checkEpilogueOperand(op, 'preluActivationWeights', alpha, outShape);
  const leakyreluAlpha = options.leakyreluAlpha ?? 0.2;
  if (typeof leakyreluAlpha !== 'number') throw new Error(`${op}: expected a number for leakyreluAlpha but got ${describe(leakyreluAlpha)}`);
  const out = empty(outShape, 'float32', x.device);
  const usesAlpha = activation === 'prelu' && alpha !== undefined;
  fn(x.data as Float32Array, x.shape, filter.data as Float32Array, filter.shape, out.data, geometry,
    bias === undefined ? null : (bias.data as Float32Array), bias === undefined ? null : bias.shape, activation,
    usesAlpha ? (alpha.data as Float32Array) : null, usesAlpha ? alpha.shape : null, leakyreluAlpha);
  return out;
}

type NativeBackpropInput = typeof native.conv2dBackpropInput;

function backpropInput(op: string, fn: NativeBackpropInput, dy: DeviceArray, filter: DeviceArray, inputShape: readonly number[],
  options: ConvOptions, depthwise: boolean): DeviceArray {
  checkFloatArray(op, 'dy', dy, 4);
  checkFloatArray(op, 'filter', filter, 4);
  checkShape(op, 'inputShape', inputShape);
  const { geometry, outShape } = resolveConv2D(op, inputShape, filter.shape, options, depthwise);
  if (!sameShape(dy.shape, outShape)) {
    throw new Error(`${op}: expected shape [${outShape}] (the convolution's output) for dy but got [${dy.shape}]`);
  }
  const dx = empty(inputShape, 'float32', dy.device);
  fn(dy.data as Float32Array, dy.shape, filter.data as Float32Array, filter.shape, dx.data, dx.shape, geometry);
  return dx;
}

type NativeBackpropFilter = typeof native.conv2dBackpropFilter;

function backpropFilter(op: string, fn: NativeBackpropFilter, x: DeviceArray, dy: DeviceArray, filterShape: readonly number[],
  options: ConvOptions, depthwise: boolean): DeviceArray {
  checkFloatArray(op, 'x', x, 4);
  checkFloatArray(op, 'dy', dy, 4);
  checkShape(op, 'filterShape', filterShape);
  const { geometry, outShape } = resolveConv2D(op, x.shape, filterShape, options, depthwise);
  if (!sameShape(dy.shape, outShape)) {
    throw new Error(`${op}: expected shape [${outShape}] (the convolution's output) for dy but got [${dy.shape}]`);
  }
  const dfilter = empty(filterShape, 'float32', x.device);
  fn(x.data as Float32Array, x.shape, dy.data as Float32Array, dy.shape, dfilter.data, dfilter.shape, geometry);
  return dfilter;
}

/** conv2d of x [N, H, W, C] with filter [KH, KW, C, OC], then bias and activation. */
export function conv2d(x: DeviceArray, filter: DeviceArray, options: FusedConvOptions = {}): DeviceArray {
  return forward('conv2d', native.conv2d, x, filter, options, false);
}

/** Depthwise conv2d of x [N, H, W, C] with filter [KH, KW, C, multiplier]: output channel c * multiplier + q reads channel c. */
export function depthwiseConv2d(x: DeviceArray, filter: DeviceArray, options: FusedConvOptions = {}): DeviceArray {
  return forward('depthwiseConv2d', native.depthwiseConv2d, x, filter, options, true);
}

/** The gradient of conv2d with respect to its input of `inputShape`, given dy. */
export function conv2dBackpropInput(dy: DeviceArray, filter: DeviceArray, inputShape: readonly number[], options: ConvOptions = {}): DeviceArray {
  return backpropInput('conv2dBackpropInput', native.conv2dBackpropInput, dy, filter, inputShape, options, false);
}

/** The gradient of conv2d with respect to its filter of `filterShape`, given x and dy. */
export function conv2dBackpropFilter(x: DeviceArray, dy: DeviceArray, filterShape: readonly number[], options: ConvOptions = {}): DeviceArray {
  return backpropFilter('conv2dBackpropFilter', native.conv2dBackpropFilter, x, dy, filterShape, options, false);
}

export function depthwiseConv2dBackpropInput(dy: DeviceArray, filter: DeviceArray, inputShape: readonly number[],
  options: ConvOptions = {}): DeviceArray {
  return backpropInput('depthwiseConv2dBackpropInput', native.depthwiseConv2dBackpropInput, dy, filter, inputShape, options, true);
}

export function depthwiseConv2dBackpropFilter(x: DeviceArray, dy: DeviceArray, filterShape: readonly number[],
  options: ConvOptions = {}): DeviceArray {
  return backpropFilter('depthwiseConv2dBackpropFilter', native.depthwiseConv2dBackpropFilter, x, dy, filterShape, options, true);
}

// Scalar references (direct loops, double accumulation): the test oracles.
export function conv2dRef(x: DeviceArray, filter: DeviceArray, options: FusedConvOptions = {}): DeviceArray {
  return forward('conv2dRef', native.conv2dRef, x, filter, options, false);
}

export function depthwiseConv2dRef(x: DeviceArray, filter: DeviceArray, options: FusedConvOptions = {}): DeviceArray {
  return forward('depthwiseConv2dRef', native.depthwiseConv2dRef, x, filter, options, true);
}

export function conv2dBackpropInputRef(dy: DeviceArray, filter: DeviceArray, inputShape: readonly number[],
  options: ConvOptions = {}): DeviceArray {
  return backpropInput('conv2dBackpropInputRef', native.conv2dBackpropInputRef, dy, filter, inputShape, options, false);
}

export function conv2dBackpropFilterRef(x: DeviceArray, dy: DeviceArray, filterShape: readonly number[],
  options: ConvOptions = {}): DeviceArray {
  return backpropFilter('conv2dBackpropFilterRef', native.conv2dBackpropFilterRef, x, dy, filterShape, options, false);
}

export function depthwiseConv2dBackpropInputRef(dy: DeviceArray, filter: DeviceArray, inputShape: readonly number[],
  options: ConvOptions = {}): DeviceArray {
  return backpropInput('depthwiseConv2dBackpropInputRef', native.depthwiseConv2dBackpropInputRef, dy, filter, inputShape, options, true);
}

export function depthwiseConv2dBackpropFilterRef(x: DeviceArray, dy: DeviceArray, filterShape: readonly number[],
  options: ConvOptions = {}): DeviceArray {
  return backpropFilter('depthwiseConv2dBackpropFilterRef', native.depthwiseConv2dBackpropFilterRef, x, dy, filterShape, options, true);
}
