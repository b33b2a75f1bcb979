// MaxPool, AvgPool, MaxPoolGrad and AvgPoolGrad on tessera-webgpu (kernels/wgsl/pool.wgsl,
// pool_grad.wgsl), NHWC, geometry from tfjs's backend_util.computePool2DInfo (dilation 1).
// Semantics as tfjs-backend-cpu:
// - max: a NaN never wins a window (it compares with >); a window with no pixel inside x is
//   -Infinity for float32 and 0 for int32 (-Infinity stored in an Int32Array);
// - avg: the mean of the window's pixels inside x (NaN for none); float32 only (tfjs-core's
//   avgPool casts to float32 first);
// - a 1x1 window that leaves the shape as it is returns x itself (storage shared);
// - MaxPoolGrad finds each window's first maximum again from x (an argmax pass, then the
//   gather pass); AvgPoolGrad spreads dy / (filterH * filterW) over the whole window.
// Forward pooling moves four channels per invocation when the channels are a multiple of 4.
import type { AvgPoolAttrs, AvgPoolGradAttrs, KernelConfig, MaxPoolAttrs, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { AvgPool, AvgPoolGrad, backend_util, MaxPool, MaxPoolGrad, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';

type PoolKind = 'max' | 'avg' | 'argmax';

function poolInfo(x: TensorInfo, attrs: MaxPoolAttrs | AvgPoolAttrs): backend_util.Conv2DInfo | null {
  if (x.shape.length !== 4) return null;
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  // A numeric pad without a rounding mode can give a fractional output size: tessera-cpu
  // decides what that is.
  const whole = [...info.outShape, info.padInfo.top, info.padInfo.left].every(Number.isInteger);
  return whole ? info : null;
}

function geometry(meta: Meta, info: backend_util.Conv2DInfo, channels: number): Meta {
  return meta.u32(channels, info.inHeight, info.inWidth, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth)
    .i32(info.padInfo.top, info.padInfo.left);
}

function bodies(kind: PoolKind, type: 'f32' | 'i32', v: string): { init: string; acc: string; result: string } {
  if (kind === 'argmax') {
    return { init: 'var best = -inf(); var pos = -1;', acc: 'if (notNan(v) && v > best) { best = v; pos = w; }', result: 'pos' };
  }
  if (kind === 'avg') {
    return { init: `var sum = ${v}(0.0); var count = 0u;`, acc: 'sum = sum + v; count = count + 1u;', result: `select(${v}(nan()), sum / ${v}(f32(count)), count > 0u)` };
  }
  if (type === 'f32') return { init: `var best = ${v}(-inf());`, acc: 'best = select(best, v, notNan(v) & (v > best));', result: 'best' };
  return { init: `var best = ${v}(-2147483647 - 1); var count = 0u;`, acc: 'best = max(best, v); count = count + 1u;', result: `select(${v}(0), best, count > 0u)` };
}

/** One pass of pool.wgsl over x: the pooled values, or (argmax) each window's first maximum's offset. */
function runPool(backend: TesseraWebGpuBackend, x: TensorInfo, info: backend_util.Conv2DInfo, kind: PoolKind): TensorInfo {
  const type = x.dtype === 'int32' ? 'i32' : 'f32';
  const vec4 = kind !== 'argmax' && info.inChannels % 4 === 0;
  const q = vec4 ? 4 : 1;
  const v = vec4 ? `vec4<${type}>` : type;
  const outType = kind === 'argmax' ? 'i32' : v;
  const size = util.sizeFromShape(info.outShape);
  const meta = geometry(new Meta().u32(size / q), info, info.inChannels / q);
  const { init, acc, result } = bodies(kind, type, v);
  const program = templateProgram(`pool/${kind}/${v}`, 'pool', 2, meta.length, {
    V: v, OUT_V: outType, BOOL_V: vec4 ? 'vec4<bool>' : 'bool', BITS_V: vec4 ? 'vec4<u32>' : 'u32', INIT: init, ACC: acc, RESULT: result,
  });
  return backend.runProgram(program, [x], info.outShape, kind === 'argmax' ? 'int32' : x.dtype, meta.build(), workgroupsFor(size / q, 256));
}

function forward(kind: 'max' | 'avg') {
  return ({ inputs, attrs }: { inputs: unknown; attrs?: unknown }, backend: TesseraWebGpuBackend): TensorInfo | null => {
    const { x } = inputs as { x: TensorInfo };
    if (!(x.dtype === 'float32' || (kind === 'max' && x.dtype === 'int32'))) return null;
    const info = poolInfo(x, attrs as MaxPoolAttrs);
    if (info === null) return null;
    if (info.filterWidth === 1 && info.filterHeight === 1 && util.arraysEqual(info.inShape, info.outShape)) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }
    if (util.sizeFromShape(info.outShape) === 0) return backend.makeOutput(info.outShape, x.dtype);
    return runPool(backend, x, info, kind);
  };
}

/** dx of the pooling `info` from dy (and, for max, the argmax pass's positions). */
function runPoolGrad(backend: TesseraWebGpuBackend, dy: TensorInfo, positions: TensorInfo | null, info: backend_util.Conv2DInfo): TensorInfo {
  const size = util.sizeFromShape(info.inShape);
  const meta = geometry(new Meta().u32(size), info, info.inChannels).f32(1 / (info.filterHeight * info.filterWidth));
  const max = positions !== null;
  const bindings = max
    ? '@group(0) @binding(1) var<storage, read> positions: array<i32>;\n@group(0) @binding(2) var<storage, read_write> dx: array<f32>;'
    : '@group(0) @binding(1) var<storage, read_write> dx: array<f32>;';
  const program = templateProgram(`pool_grad/${max ? 'max' : 'avg'}`, 'pool_grad', max ? 3 : 2, meta.length, {
    BINDINGS: bindings,
    ACC: max ? 'if (positions[k] == wR * fW + (cc - yC * sW)) { sum = sum + dy[k]; }' : 'sum = sum + dy[k];',
    RESULT: max ? 'sum' : 'sum * mf(12u)',
  });
  return backend.runProgram(program, max ? [dy, positions] : [dy], info.inShape, 'float32', meta.build(), workgroupsFor(size, 256));
}

export const poolKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(MaxPool, forward('max')),
  gpuKernelConfig(AvgPool, forward('avg')),
  gpuKernelConfig(MaxPoolGrad, ({ inputs, attrs }, backend) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    if (dy.dtype !== 'float32' || input.dtype !== 'float32') return null;
    const info = poolInfo(input, attrs as unknown as MaxPoolGradAttrs);
    if (info === null || !util.arraysEqual(dy.shape, info.outShape)) return null;
    if (util.sizeFromShape(info.inShape) === 0) return backend.makeOutput(info.inShape, 'float32');
    if (util.sizeFromShape(info.outShape) === 0) return null;
    const positions = runPool(backend, input, info, 'argmax');
    try {
      return runPoolGrad(backend, dy, positions, info);
    } finally {
      backend.disposeIntermediateTensorInfo(positions);
    }
  }),
  gpuKernelConfig(AvgPoolGrad, ({ inputs, attrs }, backend) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    if (dy.dtype !== 'float32') return null;
    const info = poolInfo(input, { ...(attrs as unknown as AvgPoolGradAttrs), dimRoundingMode: undefined });
    if (info === null || !util.arraysEqual(dy.shape, info.outShape)) return null;
    if (util.sizeFromShape(info.inShape) === 0) return backend.makeOutput(info.inShape, 'float32');
    if (util.sizeFromShape(info.outShape) === 0) return null;
    return runPoolGrad(backend, dy, null, info);
  }),
];
