// Softmax on tessera-webgpu (kernels/wgsl/softmax.wgsl): over the last axis, float32, as
// tfjs-backend-cpu computes it (max, exp of the difference, divide by the sum) in one pass
// per row group. tfjs supports only the last axis; any other dim, and non-float32 logits
// (tfjs's op casts them first), run on tessera-cpu, which reports tfjs's error.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';

const nextPow2 = (n: number) => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));

/** Lanes per row: about four elements each, up to a whole workgroup of 256 for long rows. */
export function softmaxLanes(rowLength: number): number {
  return Math.min(256, nextPow2(Math.ceil(rowLength / 4)));
}

const program = templateProgram('softmax', 'softmax', 2, 4);

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
  const workgroups = Math.ceil(rows / (256 / lanes));
  const meta = new Meta().u32(rows, n, Math.log2(lanes), workgroups);
  return backend.runProgram(program, [logits], [...logits.shape], 'float32', meta.build(),
    workgroupsFor(workgroups * 256, 256, backend.device.limits.maxComputeWorkgroupsPerDimension));
});

export const softmaxKernelConfigs: KernelConfig[] = [softmaxConfig];
