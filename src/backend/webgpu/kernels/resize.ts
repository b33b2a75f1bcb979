// ResizeBilinear, ResizeNearestNeighbor and their gradients on tessera-webgpu
// (kernels/wgsl/resize.wgsl, resize_grad.wgsl), NHWC.
//
// Which source pixels an output row or column reads is decided here, per row and per column,
// with tfjs-backend-cpu's own double-precision arithmetic (alignCorners, halfPixelCenters,
// floor/ceil/round), and handed to the shader as a small table: computed in f32 on the GPU,
// a source coordinate that is exactly an integer could land just below it and read the
// wrong pixel. The tables are a few words per output row and column.
//
// As in tfjs-backend-cpu: bilinear gives float32 (int32 and bool images are read as numbers);
// nearest keeps the dtype, int32 values passing through float32 (they round beyond 2^24);
// the gradients ignore halfPixelCenters. Unlike tfjs-backend-cpu (and like tessera-cpu), the
// gradients are shaped as the images (tfjs-backend-cpu labels ResizeBilinearGrad's result
// [batch, width, height, channels]) and each image's dx sums that image's dy
// (tfjs-backend-cpu's ResizeNearestNeighborGrad reads dy at the images' batch stride).
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { ResizeBilinear, ResizeBilinearGrad, ResizeNearestNeighbor, ResizeNearestNeighborGrad, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslType } from '../wgsl.js';

const f32Bits = (() => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  return (v: number) => {
    f[0] = v;
    return u[0];
  };
})();

/** tfjs-backend-cpu's scale from output to input coordinates along one axis. */
function ratio(inSize: number, outSize: number, alignCorners: boolean): number {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  return effIn / effOut;
}

/** Per output index along one axis: [lower source index, upper source index, fraction bits]. */
function bilinearAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number[] {
  const scale = ratio(inSize, outSize, alignCorners);
  const out: number[] = [];
  for (let k = 0; k < outSize; k++) {
    const source = halfPixelCenters ? scale * (k + 0.5) - 0.5 : scale * k;
    const lower = Math.max(0, Math.floor(source));
    const upper = Math.min(inSize - 1, Math.ceil(source));
    out.push(lower, upper, f32Bits(source - lower));
  }
  return out;
}

/** Per output index along one axis: the source index of the nearest neighbour. */
function nearestAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number[] {
  const scale = ratio(inSize, outSize, alignCorners);
  const out: number[] = [];
  for (let k = 0; k < outSize; k++) {
    const source = halfPixelCenters ? scale * (k + 0.5) : scale * k;
    let nearest = Math.min(inSize - 1, alignCorners ? Math.round(source) : Math.floor(source));
    if (halfPixelCenters) nearest = Math.max(0, nearest);
    out.push(nearest);
  }
  return out;
}

/** A small int32 tensor on this backend holding `words` (u32 values and f32 bits alike). */
function table(backend: TesseraWebGpuBackend, words: number[]): TensorInfo {
  const values = new Int32Array(Math.max(1, words.length));
  new Uint32Array(values.buffer).set(words);
  return backend.makeTensorInfo([values.length], 'int32', values);
}

interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
  size: [number, number];
}

function resize(kind: 'bilinear' | 'nearest') {
  return ({ inputs, attrs }: { inputs: unknown; attrs?: unknown }, backend: TesseraWebGpuBackend): TensorInfo | null => {
    const { images } = inputs as { images: TensorInfo };
    const { alignCorners, halfPixelCenters, size } = attrs as unknown as ResizeAttrs;
    if (images.shape.length !== 4 || !(images.dtype === 'float32' || images.dtype === 'int32' || images.dtype === 'bool')) return null;
    const [newHeight, newWidth] = size;
    const [batch, oldHeight, oldWidth, channels] = images.shape;
    const outShape = [batch, newHeight, newWidth, channels];
    const outDtype = kind === 'bilinear' ? 'float32' : images.dtype;
    const total = util.sizeFromShape(outShape);
    if (total === 0) return backend.makeOutput(outShape, outDtype);
    // An empty image with a non-empty output: tessera-cpu decides what that is.
    if (oldHeight === 0 || oldWidth === 0) return null;
    const type = wgslType(images.dtype);
    let words: number[];
    let values: Record<string, string>;
    if (kind === 'bilinear') {
      words = [...bilinearAxis(oldHeight, newHeight, alignCorners, halfPixelCenters), ...bilinearAxis(oldWidth, newWidth, alignCorners, halfPixelCenters)];
      values = {
        IN_T: type, OUT_T: 'f32', VALUE_T: 'f32', LOAD: type === 'f32' ? 'v' : 'f32(v)',
        BODY: `let top = table[3u * r];
  let bottom = table[3u * r + 1u];
  let rowFrac = bitcast<f32>(table[3u * r + 2u]);
  let k = 3u * (outH + c);
  let left = table[k];
  let right = table[k + 1u];
  let colFrac = bitcast<f32>(table[k + 2u]);
  let topLeft = load(b, top, left, d);
  let topRight = load(b, top, right, d);
  let bottomLeft = load(b, bottom, left, d);
  let bottomRight = load(b, bottom, right, d);
  let upper = topLeft + (topRight - topLeft) * colFrac;
  let lower = bottomLeft + (bottomRight - bottomLeft) * colFrac;
  out[i] = upper + (lower - upper) * rowFrac;`,
      };
    } else {
      words = [...nearestAxis(oldHeight, newHeight, alignCorners, halfPixelCenters), ...nearestAxis(oldWidth, newWidth, alignCorners, halfPixelCenters)];
      values = {
        IN_T: type, OUT_T: type, VALUE_T: type, LOAD: type === 'i32' ? 'i32(f32(v))' : 'v',
        BODY: 'out[i] = load(b, table[r], table[outH + c], d);',
      };
    }
    const lookup = table(backend, words);
    try {
      const meta = new Meta().u32(total, channels, oldHeight, oldWidth, newHeight, newWidth);
      const program = templateProgram(`resize/${kind}/${type}`, 'resize', 3, meta.length, values);
      return backend.runProgram(program, [images, lookup], outShape, outDtype, meta.build(), workgroupsFor(total, 256));
    } finally {
      backend.disposeIntermediateTensorInfo(lookup);
    }
  };
}

/** [first, end) per input index: the output indices whose entries in `forward` name it. */
function rangesOf(forward: number[], entries: number, inSize: number, usesUpper: boolean): number[] {
  const first = new Array<number>(inSize).fill(Number.POSITIVE_INFINITY);
  const last = new Array<number>(inSize).fill(-1);
  for (let k = 0; k < entries; k++) {
    for (const p of usesUpper ? [forward[3 * k], forward[3 * k + 1]] : [forward[3 * k]]) {
      first[p] = Math.min(first[p], k);
      last[p] = Math.max(last[p], k);
    }
  }
  const out: number[] = [];
  for (let p = 0; p < inSize; p++) out.push(last[p] < 0 ? 0 : first[p], last[p] + 1);
  return out;
}

function resizeGrad(kind: 'bilinear' | 'nearest') {
  return ({ inputs, attrs }: { inputs: unknown; attrs?: unknown }, backend: TesseraWebGpuBackend): TensorInfo | null => {
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const { alignCorners } = attrs as unknown as ResizeAttrs;
    const imagesOk = kind === 'bilinear' ? images.dtype === 'float32' || images.dtype === 'int32' || images.dtype === 'bool' : images.dtype === 'float32';
    if (!imagesOk || dy.dtype !== 'float32' || images.shape.length !== 4 || dy.shape.length !== 4) return null;
    const [batch, xHeight, xWidth, channels] = images.shape;
    const [dyBatch, yHeight, yWidth, dyChannels] = dy.shape;
    if (dyBatch !== batch || dyChannels !== channels) return null;
    const total = util.sizeFromShape(images.shape);
    if (total === 0) return backend.makeOutput(images.shape, 'float32');
    // The gradient's source coordinates: the forward's without halfPixelCenters.
    const axis = (inSize: number, outSize: number) => {
      if (kind === 'bilinear') return bilinearAxis(inSize, outSize, alignCorners, false);
      // Nearest, in the same three-word layout; tfjs-backend-cpu's gradient does not clamp at 0.
      const scale = ratio(inSize, outSize, alignCorners);
      const out: number[] = [];
      for (let k = 0; k < outSize; k++) out.push(Math.min(inSize - 1, alignCorners ? Math.round(k * scale) : Math.floor(k * scale)), 0, 0);
      return out;
    };
    const rows = axis(xHeight, yHeight);
    const cols = axis(xWidth, yWidth);
    const upper = kind === 'bilinear';
    const ranges = table(backend, [...rangesOf(rows, yHeight, xHeight, upper), ...rangesOf(cols, yWidth, xWidth, upper)]);
    const weights = table(backend, [...rows, ...cols]);
    try {
      const meta = new Meta().u32(total, channels, xHeight, xWidth, yHeight, yWidth);
      const weight = kind === 'bilinear'
        ? `let f = bitcast<f32>(weights[base + 3u * k + 2u]);
  return select(0.0, 1.0 - f, weights[base + 3u * k] == p) + select(0.0, f, weights[base + 3u * k + 1u] == p);`
        : 'return select(0.0, 1.0, weights[base + 3u * k] == p);';
      const program = templateProgram(`resize_grad/${kind}`, 'resize_grad', 4, meta.length, { WEIGHT: weight });
      return backend.runProgram(program, [dy, ranges, weights], images.shape, 'float32', meta.build(), workgroupsFor(total, 256));
    } finally {
      backend.disposeIntermediateTensorInfo(ranges);
      backend.disposeIntermediateTensorInfo(weights);
    }
  };
}

export const resizeKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(ResizeBilinear, resize('bilinear')),
  gpuKernelConfig(ResizeNearestNeighbor, resize('nearest')),
  gpuKernelConfig(ResizeBilinearGrad, resizeGrad('bilinear')),
  gpuKernelConfig(ResizeNearestNeighborGrad, resizeGrad('nearest')),
];
