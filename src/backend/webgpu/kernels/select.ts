// Select (tf.where): condition ? t : e on the GPU (kernels/wgsl/select.wgsl). tfjs-core
// broadcasts the three inputs to one shape before the kernel. A rank-1 condition over the rows
// of a t of higher rank (direct kernel calls only) is read as tfjs-backend-cpu reads it
// (select_rows.wgsl). The output has t's shape and the upcast of t's and e's dtypes: one dtype
// on the GPU, so mixed dtypes run on tessera-cpu, as do string and complex64.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslType } from '../wgsl.js';

const NUMERIC = new Set<string>(['float32', 'int32', 'bool']);

export const selectKernelConfig: KernelConfig = gpuKernelConfig('Select', ({ inputs }, backend) => {
  const { condition, t, e } = inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
  if (condition.dtype !== 'bool' || t.dtype !== e.dtype || !NUMERIC.has(t.dtype)) return null;
  const size = util.sizeFromShape(t.shape);
  if (util.sizeFromShape(e.shape) !== size) return null;
  const condSize = util.sizeFromShape(condition.shape);
  const rows = condition.shape.length === 1 && t.shape.length > 1 && condition.shape[0] === t.shape[0];
  // tfjs-backend-cpu reads any other rank-1 condition of a t of higher rank by rows too.
  if (!rows && (condSize !== size || (condition.shape.length === 1 && t.shape.length > 1))) return null;
  const type = wgslType(t.dtype);
  const n4 = Math.ceil(size / 4);
  // A row condition over rows of one element reads as an elementwise one.
  const rowSize = rows ? size / Math.max(condSize, 1) : 1;
  const meta = new Meta().u32(n4);
  if (rows && rowSize !== 1) meta.u32(rowSize, condSize);
  const template = rows && rowSize !== 1 ? 'select_rows' : 'select';
  const program = templateProgram(`${template}/${type}`, template, 4, meta.length, { T: type });
  return backend.runProgram(program, [condition, t, e], t.shape, t.dtype, meta.build(), workgroupsFor(n4, 256));
});

export const selectKernelConfigs: KernelConfig[] = [selectKernelConfig];
