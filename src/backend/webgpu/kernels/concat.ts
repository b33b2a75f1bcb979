// Concat and Pack on tessera-webgpu. Every input is a matrix [outer, width_k] (the dims
// before the axis, the rest) and the output [outer, sum of widths]:
// - outer = 1 (axis 0, or only extent-1 dims before it): each input is one contiguous run
//   of the output, so a buffer-to-buffer copy per input, no shader;
// - otherwise kernels/wgsl/concat.wgsl, one dispatch per group of up to 7 inputs (7 inputs
//   and the output stay within WebGPU's guaranteed 8 storage buffers per shader stage).
// Pack is Concat of the inputs with an extent-1 dim inserted at the axis: the same words.
import type { ConcatAttrs, DataType, KernelConfig, PackAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, Concat, Pack, util } from '@tensorflow/tfjs-core';

import { GPU_ELEMENT_BYTES, workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';
import { isWordDType } from './movement.js';

const GROUP = 7;

function concatProgram(count: number, metaWords: number) {
  const bindings = [...Array.from({ length: count }, (_, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<u32>;`),
    `@group(0) @binding(${count}) var<storage, read_write> dst: array<u32>;`].join('\n');
  // The last input of the group takes every column the others do not.
  const select = Array.from({ length: count }, (_, k) => {
    const read = `v = in${k}[row * m(${5 + 2 * k}u) + col - m(${4 + 2 * k}u)];`;
    if (k === count - 1) return count === 1 ? read : `{ ${read} }`;
    return `if (col < m(${4 + 2 * (k + 1)}u)) { ${read} }`;
  }).join(' else ');
  return templateProgram(`concat/${count}`, 'concat', count + 1, metaWords, { COUNT: count, BINDINGS: bindings, SELECT: select });
}

/** The output of shape `outShape`: parts[k] as [outer, widths[k]] side by side. */
function concatWords(backend: TesseraWebGpuBackend, parts: TensorInfo[], widths: number[], outer: number, outShape: number[], dtype: DataType): TensorInfo {
  const out = backend.makeOutput(outShape, dtype);
  const total = widths.reduce((p, w) => p + w, 0);
  const outBuffer = backend.gpuBuffer(out);
  try {
    if (outer === 1) {
      let offset = 0;
      parts.forEach((t, k) => {
        backend.device.copy(backend.gpuBuffer(t), 0, outBuffer, offset * GPU_ELEMENT_BYTES, widths[k] * GPU_ELEMENT_BYTES);
        offset += widths[k];
      });
      return out;
    }
    let first = 0;
    for (let g = 0; g < parts.length; g += GROUP) {
      const group = parts.slice(g, g + GROUP);
      const groupWidths = widths.slice(g, g + GROUP);
      const cols = groupWidths.reduce((p, w) => p + w, 0);
      const meta = new Meta().u32(outer * cols, cols, total, first);
      let start = 0;
      for (const w of groupWidths) {
        meta.u32(start, w);
        start += w;
      }
      const buffers = [...group.map((t) => backend.gpuBuffer(t)), outBuffer];
      backend.device.dispatch(concatProgram(group.length, meta.length), buffers, meta.build(), workgroupsFor(outer * cols, 256));
      first += cols;
    }
    return out;
  } catch (e) {
    backend.disposeIntermediateTensorInfo(out);
    throw e;
  }
}

export const concatKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(Concat, ({ inputs, attrs }, backend) => {
    const tensors = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    const { axis } = attrs as unknown as ConcatAttrs;
    const dtype = tensors[0].dtype;
    if (!isWordDType(dtype) || tensors.some((t) => t.dtype !== dtype)) return null;
    const $axis = util.parseAxisParam(axis, tensors[0].shape)[0];
    backend_util.assertParamsConsistent(tensors.map((t) => t.shape), $axis);
    const outShape = backend_util.computeOutShape(tensors.map((t) => t.shape), $axis);
    if (util.sizeFromShape(outShape) === 0) return backend.makeOutput(outShape, dtype);
    const parts = tensors.filter((t) => util.sizeFromShape(t.shape) > 0);
    if (parts.length === 1) {
      // tfjs-backend-cpu returns the one non-empty input (its shape is the output's).
      backend.incRef(parts[0].dataId);
      return { dataId: parts[0].dataId, shape: outShape, dtype };
    }
    const outer = util.sizeFromShape(outShape.slice(0, $axis));
    return concatWords(backend, parts, parts.map((t) => util.sizeFromShape(t.shape.slice($axis))), outer, outShape, dtype);
  }),
  gpuKernelConfig(Pack, ({ inputs, attrs }, backend) => {
    const tensors = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    const { axis } = attrs as unknown as PackAttrs;
    const shape = tensors[0].shape;
    const dtype = tensors[0].dtype;
    // Mismatched shapes or dtypes: tessera-cpu reports them.
    if (!isWordDType(dtype) || tensors.some((t) => t.dtype !== dtype || !util.arraysEqual(t.shape, shape))) return null;
    const $axis = axis < 0 ? shape.length + axis + 1 : axis;
    if ($axis < 0 || $axis > shape.length) return null;
    const outShape = [...shape.slice(0, $axis), tensors.length, ...shape.slice($axis)];
    const width = util.sizeFromShape(shape.slice($axis));
    if (util.sizeFromShape(outShape) === 0) return backend.makeOutput(outShape, dtype);
    if (tensors.length === 1) {
      backend.incRef(tensors[0].dataId);
      return { dataId: tensors[0].dataId, shape: outShape, dtype };
    }
    return concatWords(backend, tensors, tensors.map(() => width), util.sizeFromShape(shape.slice(0, $axis)), outShape, dtype);
  }),
];
