// AddN: the sum of any number of float32 or int32 tensors of one shape (kernels/wgsl/addn.wgsl).
// WebGPU guarantees 8 storage buffers per shader stage, so one pass adds up to 7 inputs; more
// take further passes, each adding the next 6 inputs to the running sum (kept first, so the
// additions stay in tfjs's left-to-right order). bool, mixed dtypes and shapes, string and
// complex64 run on tessera-cpu.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram, wgslType } from '../wgsl.js';

const MAX_INPUTS = 7;

function addProgram(type: 'f32' | 'i32', n: number, meta: Meta) {
  const inputs = Array.from({ length: n }, (_, k) => `@group(0) @binding(${k}) var<storage, read> x${k}: array<vec4<${type}>>;`).join('\n');
  // From zero, as tfjs: 0 + -0 is +0.
  const sum = `vec4<${type}>(0) + ${Array.from({ length: n }, (_, k) => `x${k}[i]`).join(' + ')}`;
  return templateProgram(`addn/${type}/${n}`, 'addn', n + 1, meta.length, { T: type, N: n, INPUTS: inputs, SUM: sum });
}

function runAddN(backend: TesseraWebGpuBackend, xs: TensorInfo[]): TensorInfo {
  const first = xs[0];
  const type = wgslType(first.dtype) as 'f32' | 'i32';
  const n4 = Math.ceil(util.sizeFromShape(first.shape) / 4);
  const meta = new Meta().u32(n4);
  const groups = workgroupsFor(n4, 256);
  let sum: TensorInfo | null = null;
  let next = 0;
  while (next < xs.length) {
    const take = sum === null ? Math.min(MAX_INPUTS, xs.length) : Math.min(MAX_INPUTS - 1, xs.length - next);
    const inputs = sum === null ? xs.slice(0, take) : [sum, ...xs.slice(next, next + take)];
    // The running sum after the first pass already includes the zero it started from.
    const out = backend.runProgram(addProgram(type, inputs.length, meta), inputs, first.shape, first.dtype, meta.build(), groups);
    if (sum !== null) backend.disposeIntermediateTensorInfo(sum);
    sum = out;
    next += take;
  }
  return sum!;
}

export const addNKernelConfig: KernelConfig = gpuKernelConfig('AddN', ({ inputs }, backend) => {
  const xs = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
  if (xs.length === 0) return null;
  const first = xs[0];
  if (first.dtype !== 'float32' && first.dtype !== 'int32') return null;
  if (!xs.every((x) => x.dtype === first.dtype && util.arraysEqual(x.shape, first.shape))) return null;
  return runAddN(backend, xs);
});

export const addNKernelConfigs: KernelConfig[] = [addNKernelConfig];
