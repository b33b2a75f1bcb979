// Fill, ZerosLike and OnesLike on the GPU (kernels/wgsl/fill.wgsl): one program for every
// dtype, writing the value's 32-bit pattern as the GPU holds that dtype (float32 rounded as a
// Float32Array stores it, int32 as an Int32Array does, bool as 0/1). string and complex64
// run on tessera-cpu, as does a bool Fill of a value other than 0/1/true/false (a Uint8Array
// keeps 5 as 5, a u32 bool reads back as 1).
import type { DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';

/** The word the GPU holds for `value` as `dtype`, or null when it cannot hold it. */
function wordFor(value: unknown, dtype: DataType): number | null {
  if (typeof value !== 'number' && typeof value !== 'boolean') return null;
  const v = Number(value);
  if (dtype === 'float32') return new Uint32Array(Float32Array.of(v).buffer)[0];
  if (dtype === 'int32') return Int32Array.of(v)[0] >>> 0;
  if (dtype === 'bool') return v === 0 || v === 1 ? v : null;
  return null;
}

/** A new tensor of `shape` and `dtype` with every element `word`. */
export function runFill(backend: TesseraWebGpuBackend, shape: number[], dtype: DataType, word: number): TensorInfo {
  const n4 = Math.ceil(util.sizeFromShape(shape) / 4);
  const meta = new Meta().u32(n4, word);
  const out = backend.makeOutput(shape, dtype);
  const program = templateProgram('fill', 'fill', 1, meta.length);
  try {
    backend.device.dispatch(program, [backend.gpuBuffer(out)], meta.build(), workgroupsFor(n4, 256));
  } catch (e) {
    backend.disposeIntermediateTensorInfo(out);
    throw e;
  }
  return out;
}

const fillConfig = gpuKernelConfig('Fill', ({ attrs }, backend) => {
  const { shape, value, dtype } = (attrs ?? {}) as { shape: number[]; value: unknown; dtype?: DataType };
  const $dtype = dtype ?? (typeof value === 'boolean' ? 'bool' : typeof value === 'number' ? 'float32' : 'string');
  const word = wordFor(value, $dtype);
  return word === null ? null : runFill(backend, shape, $dtype, word);
});

function likeConfig(kernelName: string, value: number): KernelConfig {
  return gpuKernelConfig(kernelName, ({ inputs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const word = wordFor(value, x.dtype);
    return word === null ? null : runFill(backend, x.shape.slice(), x.dtype, word);
  });
}

export const fillKernelConfigs: KernelConfig[] = [fillConfig, likeConfig('ZerosLike', 0), likeConfig('OnesLike', 1)];
