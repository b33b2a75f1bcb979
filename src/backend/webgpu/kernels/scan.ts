// Cumsum and Cumprod on tessera-webgpu (kernels/wgsl/scan.wgsl): one invocation per row along
// the axis, a sequential scan in tfjs-backend-cpu's order, on the tensor in place (no
// transposes). The result dtype is tfjs-backend-cpu's: upcastType(x.dtype, 'int32'), so bool
// scans to int32. What runs on tessera-cpu instead (returning null): dtypes other than
// float32, int32 and bool, and an axis outside [0, rank) (tfjs-backend-cpu's transposes then
// decide what happens).
import type { CumprodAttrs, CumsumAttrs, DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { Cumprod, Cumsum, upcastType, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslType } from '../wgsl.js';

function scan(backend: TesseraWebGpuBackend, x: TensorInfo, attrs: CumsumAttrs | CumprodAttrs, op: '+' | '*'): TensorInfo | null {
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return null;
  const { axis, exclusive, reverse } = attrs;
  const rank = x.shape.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) return null;
  const outDtype = upcastType(x.dtype, 'int32') as DataType;
  const size = util.sizeFromShape(x.shape);
  if (size === 0) return backend.makeOutput([...x.shape], outDtype);
  const n = x.shape[axis];
  const inner = util.sizeFromShape(x.shape.slice(axis + 1));
  const rows = size / n;
  const inType = wgslType(x.dtype);
  const outType = wgslType(outDtype);
  const identity = op === '+' ? `${outType}(0)` : `${outType}(1)`;
  const meta = new Meta().u32(rows, n, inner, exclusive ? 1 : 0, reverse ? 1 : 0);
  const program = templateProgram(`scan/${op}/${inType}/${outType}`, 'scan', 2, meta.length, { IN: inType, OUT: outType, OP: op, IDENTITY: identity });
  return backend.runProgram(program, [x], [...x.shape], outDtype, meta.build(), workgroupsFor(rows, 256));
}

export const scanKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(Cumsum, ({ inputs, attrs }, backend) => scan(backend, (inputs as { x: TensorInfo }).x, attrs as unknown as CumsumAttrs, '+')),
  gpuKernelConfig(Cumprod, ({ inputs, attrs }, backend) => scan(backend, (inputs as { x: TensorInfo }).x, attrs as unknown as CumprodAttrs, '*')),
];
