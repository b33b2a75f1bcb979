// Pooling, resize and batch-norm kernels over NHWC arrays, with tfjs-backend-cpu's
// semantics. Pooling geometry comes from tfjs's own computePool2DInfo, so every padding
// mode and dimRoundingMode resolves exactly as it does there; the native side gets the
// resolved numbers.
import { backend_util } from '@tensorflow/tfjs-core';

import { declareCpuOp } from '../device/cpu.js';
import { native } from '../native.js';
import { DeviceArray, empty, type DType } from './array.js';
import { checkArray, checkDType, checkRank, describe } from './validate.js';

for (const op of [
  'MaxPool', 'AvgPool', 'MaxPoolGrad', 'AvgPoolGrad', 'FusedBatchNorm',
  'ResizeBilinear', 'ResizeNearestNeighbor', 'ResizeBilinearGrad', 'ResizeNearestNeighborGrad',
]) {
  declareCpuOp(op);
}

export type PoolPadding = 'valid' | 'same' | number | backend_util.ExplicitPadding;
export type DimRoundingMode = 'floor' | 'round' | 'ceil';
export type PoolSize = number | [number, number];

/** A pooling's resolved geometry, in the order the native kernels take it. */
export interface Pool2DGeometry {
  /** [batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft] */
  readonly geometry: readonly number[];
  readonly outShape: [number, number, number, number];
  /** A 1x1 filter that leaves the shape as it is: tfjs returns the input itself. */
  readonly isIdentity: boolean;
}

function computeGeometry(
  xShape: readonly number[], filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode,
): Pool2DGeometry | undefined {
  let info: backend_util.Conv2DInfo;
  try {
    info = backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  } catch {
    return undefined;
  }
  const geometry = [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ];
  if (!geometry.every(Number.isInteger) || geometry.slice(0, 6).some((v) => v < 0) || geometry.slice(6, 10).some((v) => v < 1)) {
    return undefined;
  }
  const outShape = info.outShape as [number, number, number, number];
  const isIdentity = info.filterHeight === 1 && info.filterWidth === 1 && outShape.every((d, i) => d === info.inShape[i]);
  return { geometry, outShape, isIdentity };
}

/**
 * tfjs's pooling geometry (dilation 1) for an NHWC shape, or undefined for arguments the
 * pooling kernels here reject (the tfjs backend then leaves them to tfjs-backend-cpu).
 */
export function resolvePool2D(
  xShape: readonly number[], filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode,
): Pool2DGeometry | undefined {
  try {
    return poolGeometry('pool', xShape, filterSize, strides, pad, dimRoundingMode);
  } catch {
    return undefined;
  }
}

function checkPoolSize(op: string, arg: string, v: unknown): asserts v is PoolSize {
  const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (!(ok(v) || (Array.isArray(v) && v.length === 2 && v.every(ok)))) {
    throw new Error(`${op}: expected a positive integer or a pair of them for ${arg} but got ${describe(v)}${Array.isArray(v) ? ` [${v}]` : ''}`);
  }
}

function checkPadding(op: string, pad: unknown, dimRoundingMode: unknown): asserts pad is PoolPadding {
  const isNumber = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  const isExplicit = Array.isArray(pad) && pad.length === 4 &&
    pad.every((p) => Array.isArray(p) && p.length === 2 && p.every((n) => isNumber(n) && Number.isInteger(n)));
  if (!(pad === 'valid' || pad === 'same' || isNumber(pad) || isExplicit)) {
    throw new Error(`${op}: expected 'valid', 'same', a non-negative number or [[0, 0], [top, bottom], [left, right], [0, 0]] for pad but got ${describe(pad)}`);
  }
  if (dimRoundingMode == null) return;
  if (dimRoundingMode !== 'floor' && dimRoundingMode !== 'round' && dimRoundingMode !== 'ceil') {
    throw new Error(`${op}: expected 'floor', 'round', 'ceil' or undefined for dimRoundingMode but got ${describe(dimRoundingMode)}`);
  }
  if (typeof pad === 'string' || (typeof pad === 'number' && !Number.isInteger(pad))) {
    throw new Error(`${op}: expected an integer or explicit pad with dimRoundingMode for pad but got ${describe(pad)}`);
  }
}

function poolGeometry(
  op: string, xShape: readonly number[], filterSize: unknown, strides: unknown, pad: unknown, dimRoundingMode: unknown,
): Pool2DGeometry {
  if (xShape.length !== 4) throw new Error(`${op}: expected rank 4 for x but got shape [${xShape}]`);
  checkPoolSize(op, 'filterSize', filterSize);
  checkPoolSize(op, 'strides', strides);
  checkPadding(op, pad, dimRoundingMode);
  const resolved = computeGeometry(xShape, filterSize, strides, pad, (dimRoundingMode ?? undefined) as DimRoundingMode | undefined);
  if (resolved === undefined) {
    throw new Error(`${op}: expected filterSize, strides and pad that give a whole, non-negative output size for x of shape [${xShape}] but got filterSize ${JSON.stringify(filterSize)}, strides ${JSON.stringify(strides)}, pad ${JSON.stringify(pad)}`);
  }
  return resolved;
}

function copyOf(x: DeviceArray): DeviceArray {
  const out = empty(x.shape, x.dtype, x.device);
  out.data.set(x.data);
  return out;
}

function pool(type: 'max' | 'avg', reference: boolean, x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode): DeviceArray {
  const op = type === 'max' ? 'maxPool' : 'avgPool';
  checkArray(op, 'x', x);
  checkDType(op, 'x', x, ['float32', 'int32']);
  const g = poolGeometry(op, x.shape, filterSize, strides, pad, dimRoundingMode);
  // tfjs-backend-cpu returns x itself here, so even NaN comes through (a 1x1 max pool would drop it).
  if (g.isIdentity) return copyOf(x);
  const out = empty(g.outShape, x.dtype, x.device);
  (reference ? native.pool2dRef : native.pool2d)(type, x.data, g.geometry, out.data);
  return out;
}

/** Max pooling of NHWC x (float32 or int32): NaN never wins a window; an empty window gives -Infinity (0 for int32). */
export function maxPool(x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode): DeviceArray {
  return pool('max', false, x, filterSize, strides, pad, dimRoundingMode);
}
/** The scalar reference of `maxPool`. */
export function maxPoolRef(x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode): DeviceArray {
  return pool('max', true, x, filterSize, strides, pad, dimRoundingMode);
}

/** Average pooling of NHWC x: the mean of the window's pixels inside the input. */
export function avgPool(x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode): DeviceArray {
  return pool('avg', false, x, filterSize, strides, pad, dimRoundingMode);
}
/** The scalar reference of `avgPool`. */
export function avgPoolRef(x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode): DeviceArray {
  return pool('avg', true, x, filterSize, strides, pad, dimRoundingMode);
}

function poolGrad(
  type: 'max' | 'avg', reference: boolean, dy: DeviceArray, x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode,
): DeviceArray {
  const op = type === 'max' ? 'maxPoolGrad' : 'avgPoolGrad';
  checkArray(op, 'dy', dy);
  checkArray(op, 'x', x);
  checkDType(op, 'dy', dy, ['float32']);
  if (type === 'max') checkDType(op, 'x', x, ['float32']);
  const g = poolGeometry(op, x.shape, filterSize, strides, pad, dimRoundingMode);
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== g.outShape[i])) {
    throw new Error(`${op}: expected shape [${g.outShape}] (the pooling's output) for dy but got [${dy.shape}]`);
  }
  const dx = empty(x.shape, 'float32', x.device);
  if (type === 'max') {
    (reference ? native.maxPoolGradRef : native.maxPoolGrad)(dy.data as Float32Array, x.data as Float32Array, g.geometry, dx.data);
  } else {
    (reference ? native.avgPoolGradRef : native.avgPoolGrad)(dy.data as Float32Array, g.geometry, dx.data);
  }
  return dx;
}

/**
 * The gradient of maxPool: dy of each window goes to its first maximum in x (float32), found
 * again from x as tfjs-backend-cpu does (the forward output is not needed).
 */
export function maxPoolGrad(dy: DeviceArray, x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode): DeviceArray {
  return poolGrad('max', false, dy, x, filterSize, strides, pad, dimRoundingMode);
}
/** The scalar reference of `maxPoolGrad`. */
export function maxPoolGradRef(dy: DeviceArray, x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding, dimRoundingMode?: DimRoundingMode): DeviceArray {
  return poolGrad('max', true, dy, x, filterSize, strides, pad, dimRoundingMode);
}

/**
 * The gradient of avgPool with respect to x (only x's shape is read): each window's dy spread
 * over it, divided by the full filter area as tfjs does (even where the window hangs over padding).
 */
export function avgPoolGrad(dy: DeviceArray, x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding): DeviceArray {
  return poolGrad('avg', false, dy, x, filterSize, strides, pad);
}
/** The scalar reference of `avgPoolGrad`. */
export function avgPoolGradRef(dy: DeviceArray, x: DeviceArray, filterSize: PoolSize, strides: PoolSize, pad: PoolPadding): DeviceArray {
  return poolGrad('avg', true, dy, x, filterSize, strides, pad);
}

function batchNormImpl(
  reference: boolean, x: DeviceArray, mean: DeviceArray, variance: DeviceArray, offset: DeviceArray | undefined, scale: DeviceArray | undefined, varianceEpsilon: number,
): DeviceArray {
  const op = 'batchNorm';
  checkArray(op, 'x', x);
  checkDType(op, 'x', x, ['float32']);
  const params: [string, DeviceArray | undefined][] = [['mean', mean], ['variance', variance], ['offset', offset], ['scale', scale]];
  for (const [name, p] of params) {
    if (p === undefined && (name === 'offset' || name === 'scale')) continue;
    checkArray(op, name, p);
    checkDType(op, name, p, ['float32']);
    if (p.size === 0) throw new Error(`${op}: expected at least one value for ${name} but got shape [${p.shape}]`);
    if (p.shape.length !== mean.shape.length) {
      throw new Error(`${op}: expected rank ${mean.shape.length} (that of mean) for ${name} but got shape [${p.shape}]`);
    }
  }
  if (typeof varianceEpsilon !== 'number' || Number.isNaN(varianceEpsilon)) {
    throw new Error(`${op}: expected a number for varianceEpsilon but got ${describe(varianceEpsilon)}`);
  }
  const out = empty(x.shape, 'float32', x.device);
  (reference ? native.batchNormRef : native.batchNorm)(
    x.data as Float32Array, mean.data as Float32Array, variance.data as Float32Array,
    (offset?.data ?? null) as Float32Array | null, (scale?.data ?? null) as Float32Array | null, varianceEpsilon, out.data);
  return out;
}

/**
 * offset + (x - mean) * scale / sqrt(variance + varianceEpsilon), every parameter indexed
 * modulo its own length as tfjs-backend-cpu does (so 1-D parameters apply along the last axis).
 */
export function batchNorm(
  x: DeviceArray, mean: DeviceArray, variance: DeviceArray, offset?: DeviceArray, scale?: DeviceArray, varianceEpsilon = 0.001,
): DeviceArray {
  return batchNormImpl(false, x, mean, variance, offset, scale, varianceEpsilon);
}
/** The scalar reference of `batchNorm`. */
export function batchNormRef(
  x: DeviceArray, mean: DeviceArray, variance: DeviceArray, offset?: DeviceArray, scale?: DeviceArray, varianceEpsilon = 0.001,
): DeviceArray {
  return batchNormImpl(true, x, mean, variance, offset, scale, varianceEpsilon);
}

function checkFlag(op: string, arg: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new Error(`${op}: expected a boolean for ${arg} but got ${describe(v)}`);
}

function checkImages(op: string, images: unknown, dtypes: readonly DType[]): asserts images is DeviceArray {
  checkArray(op, 'images', images);
  checkDType(op, 'images', images, dtypes);
  checkRank(op, 'images', images, 4);
}

function resize(
  kind: 'bilinear' | 'nearest', reference: boolean, images: DeviceArray, size: [number, number], alignCorners: boolean, halfPixelCenters: boolean,
): DeviceArray {
  const op = kind === 'bilinear' ? 'resizeBilinear' : 'resizeNearestNeighbor';
  checkImages(op, images, ['float32', 'int32']);
  if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: expected [newHeight, newWidth] of non-negative integers for size but got ${describe(size)}${Array.isArray(size) ? ` [${size}]` : ''}`);
  }
  checkFlag(op, 'alignCorners', alignCorners);
  checkFlag(op, 'halfPixelCenters', halfPixelCenters);
  // tfjs's bilinear kernel reads past the image with both (its resizeBilinear op forbids them together).
  if (kind === 'bilinear' && alignCorners && halfPixelCenters) {
    throw new Error(`${op}: expected halfPixelCenters false when alignCorners is true for halfPixelCenters but got true`);
  }
  const [batch, height, width, channels] = images.shape;
  const outShape = [batch, size[0], size[1], channels];
  if ((height === 0 || width === 0) && outShape.every((d) => d > 0)) {
    throw new Error(`${op}: expected images of at least one pixel for a non-empty output but got shape [${images.shape}]`);
  }
  if (kind === 'bilinear') {
    const out = empty(outShape, 'float32', images.device);
    (reference ? native.resizeBilinearRef : native.resizeBilinear)(images.data, images.shape, size, alignCorners, halfPixelCenters, out.data);
    return out;
  }
  const out = empty(outShape, images.dtype, images.device);
  (reference ? native.resizeNearestNeighborRef : native.resizeNearestNeighbor)(images.data, images.shape, size, alignCorners, halfPixelCenters, out.data);
  return out;
}

/**
 * Bilinear resize of NHWC images (float32 or int32) to size [newHeight, newWidth]; float32
 * out. alignCorners and halfPixelCenters exclude each other.
 */
export function resizeBilinear(images: DeviceArray, size: [number, number], alignCorners = false, halfPixelCenters = false): DeviceArray {
  return resize('bilinear', false, images, size, alignCorners, halfPixelCenters);
}
/** The scalar reference of `resizeBilinear`. */
export function resizeBilinearRef(images: DeviceArray, size: [number, number], alignCorners = false, halfPixelCenters = false): DeviceArray {
  return resize('bilinear', true, images, size, alignCorners, halfPixelCenters);
}

/**
 * Nearest-neighbor resize of NHWC images (float32 or int32), same dtype out. As in tfjs,
 * int32 values pass through float32 (beyond 2^24 they round).
 */
export function resizeNearestNeighbor(images: DeviceArray, size: [number, number], alignCorners = false, halfPixelCenters = false): DeviceArray {
  return resize('nearest', false, images, size, alignCorners, halfPixelCenters);
}
/** The scalar reference of `resizeNearestNeighbor`. */
export function resizeNearestNeighborRef(images: DeviceArray, size: [number, number], alignCorners = false, halfPixelCenters = false): DeviceArray {
  return resize('nearest', true, images, size, alignCorners, halfPixelCenters);
}

function resizeGrad(kind: 'bilinear' | 'nearest', reference: boolean, images: DeviceArray, dy: DeviceArray, alignCorners: boolean): DeviceArray {
  const op = kind === 'bilinear' ? 'resizeBilinearGrad' : 'resizeNearestNeighborGrad';
  checkImages(op, images, kind === 'bilinear' ? ['float32', 'int32', 'bool'] : ['float32']);
  checkArray(op, 'dy', dy);
  checkDType(op, 'dy', dy, ['float32']);
  checkRank(op, 'dy', dy, 4);
  if (dy.shape[0] !== images.shape[0] || dy.shape[3] !== images.shape[3]) {
    throw new Error(`${op}: expected the batch and channels of images [${images.shape}] for dy but got shape [${dy.shape}]`);
  }
  checkFlag(op, 'alignCorners', alignCorners);
  const dx = empty(images.shape, 'float32', images.device);
  const run = kind === 'bilinear'
    ? (reference ? native.resizeBilinearGradRef : native.resizeBilinearGrad)
    : (reference ? native.resizeNearestNeighborGradRef : native.resizeNearestNeighborGrad);
  run(dy.data as Float32Array, dy.shape, images.shape, alignCorners, dx.data);
  return dx;
}

/**
 * The gradient of resizeBilinear with respect to images (only their shape is read); like
 * tfjs-backend-cpu it ignores halfPixelCenters. Shaped as images (tfjs-backend-cpu labels its
 * result [batch, width, height, channels], which only agrees for square images).
 */
export function resizeBilinearGrad(images: DeviceArray, dy: DeviceArray, alignCorners = false): DeviceArray {
  return resizeGrad('bilinear', false, images, dy, alignCorners);
}
/** The scalar reference of `resizeBilinearGrad`. */
export function resizeBilinearGradRef(images: DeviceArray, dy: DeviceArray, alignCorners = false): DeviceArray {
  return resizeGrad('bilinear', true, images, dy, alignCorners);
}

/**
 * The gradient of resizeNearestNeighbor with respect to float32 images (ignores
 * halfPixelCenters, as tfjs-backend-cpu does). Each image's dx sums that image's dy;
 * tfjs-backend-cpu reads dy at the images' batch stride, so it agrees only for one image.
 */
export function resizeNearestNeighborGrad(images: DeviceArray, dy: DeviceArray, alignCorners = false): DeviceArray {
  return resizeGrad('nearest', false, images, dy, alignCorners);
}
/** The scalar reference of `resizeNearestNeighborGrad`. */
export function resizeNearestNeighborGradRef(images: DeviceArray, dy: DeviceArray, alignCorners = false): DeviceArray {
  return resizeGrad('nearest', true, images, dy, alignCorners);
}
