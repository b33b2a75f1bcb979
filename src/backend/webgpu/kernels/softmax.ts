// Softmax on tessera-webgpu (kernels/wgsl/softmax.wgsl, softmax_serial.wgsl): over the last
// axis, float32, as tfjs-backend-cpu computes it (max, exp of the difference, divided by the
// sum), in one dispatch. tfjs supports only the last axis; any other dim, and non-float32
// logits (which tfjs's op rejects), run on tessera-cpu, which reports tfjs's error.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';

const nextPow2 = (n: number) => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));

// Rows up to this long take one invocation each (softmax_serial.wgsl).
const SERIAL_MAX_ROW = 16;
// The grid's cap: workgroups take row groups in a grid-strided loop.
const MAX_WORKGROUPS = 1024;

/** Lanes per row: 1 for short rows, else about eight elements each, up to a whole workgroup of 256 for long rows. */
export function softmaxLanes(rowLength: number): number {
  return rowLength <= SERIAL_MAX_ROW ? 1 : Math.min(256, nextPow2(Math.ceil(rowLength / 8)));
}

const tree = templateProgram('softmax', 'softmax', 2, 4);
const serial = templateProgram('softmax/serial', 'softmax_serial', 2, 4);

const softmaxConfig: KernelConfig = gpuKernelConfig('Softmax', ({ inputs, attrs }, backend) => {
  const { logits } = inputs as { logits: TensorInfo };
  const rank = logits.shape.length;
  const dim = attrs?.dim;
  if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
  const size = util.sizeFromShape(logits.shape);
  if (size === 0) return backend.makeOutput([...logits.shape], 'float32');
  const n = logits.shape[rank - 1];
  const rows = size / n;
  const lanes = softmaxLanes(n);
  const rowGroups = Math.ceil(rows / (256 / lanes));
  const meta = new Meta().u32(rows, n, Math.log2(lanes), rowGroups);
  return backend.runProgram(lanes === 1 ? serial : tree, [logits], [...logits.shape], 'float32', meta.build(),
    [Math.min(rowGroups, MAX_WORKGROUPS)]);
});

export const softmaxKernelConfigs: KernelConfig[] = [softmaxConfig];
