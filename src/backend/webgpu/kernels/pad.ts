// PadV2 and MirrorPad on tessera-webgpu (kernels/wgsl/pad.wgsl): one invocation per output
// element, reading its source word or writing the constant. For constant pads every unpadded
// dim is folded into the one outside it, so padding only the outer dims is a short loop.
import type { DataType, KernelConfig, MirrorPadAttrs, PadV2Attrs, TensorInfo } from '@tensorflow/tfjs-core';
import { MirrorPad, PadV2, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig, type TesseraWebGpuBackend } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';
import { isWordDType, MAX_AFFINE_RANK } from './movement.js';

/** The 32-bit word the GPU holds for `value` in `dtype`, converted as tfjs's typed array for it would. */
function constantWord(value: number, dtype: DataType): number {
  if (dtype === 'float32') return new Uint32Array(new Float32Array([value]).buffer)[0];
  if (dtype === 'int32') return new Uint32Array(new Int32Array([value]).buffer)[0];
  return new Uint8Array([value])[0] !== 0 ? 1 : 0;
}

type PadDim = { out: number; before: number; n: number };

function runPad(backend: TesseraWebGpuBackend, x: TensorInfo, paddings: ReadonlyArray<readonly [number, number]>, mode: 'constant' | 'reflect' | 'symmetric', constant: number): TensorInfo | null {
  if (!isWordDType(x.dtype) || paddings.length !== x.shape.length) return null;
  if (!paddings.every((p) => p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0))) return null;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const size = util.sizeFromShape(outShape);
  if (size === 0) return backend.makeOutput(outShape, x.dtype);
  const dims: PadDim[] = [];
  for (let d = x.shape.length - 1; d >= 0; d--) {
    const dim = { out: outShape[d], before: paddings[d][0], n: x.shape[d] };
    const inner = dims[0];
    // An unpadded inner dim folds into this one: (c_d - before) * n_inner + c_inner.
    if (mode === 'constant' && inner !== undefined && inner.out === inner.n) {
      inner.out *= dim.out;
      inner.before = dim.before * inner.n;
      inner.n *= dim.n;
    } else {
      dims.unshift(dim);
    }
  }
  if (dims.length > MAX_AFFINE_RANK) return null;
  const meta = new Meta().u32(size, constantWord(constant, x.dtype));
  let stride = 1;
  const strides = new Array<number>(dims.length);
  for (let d = dims.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= dims[d].n;
  }
  dims.forEach((dim, d) => meta.u32(dim.out).i32(dim.before, dim.n).u32(strides[d]));
  const mirror = mode !== 'constant';
  const program = templateProgram(`pad/${mode}/${dims.length}`, 'pad', 2, meta.length, {
    RANK: dims.length, MIRROR: mirror ? 'true' : 'false', EDGE: mode === 'symmetric' ? 1 : 0,
  });
  return backend.runProgram(program, [x], outShape, x.dtype, meta.build(), workgroupsFor(size, 256));
}

export const padKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(PadV2, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { paddings, constantValue } = attrs as unknown as PadV2Attrs;
    return runPad(backend, x, paddings, 'constant', constantValue);
  }),
  gpuKernelConfig(MirrorPad, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { paddings, mode } = attrs as unknown as MirrorPadAttrs;
    if (mode !== 'reflect' && mode !== 'symmetric') return null;
    // Paddings wider than the mirror can reach are left to tessera-cpu, which reports them.
    const slack = mode === 'reflect' ? 1 : 0;
    if (paddings.some(([b, a], i) => b > x.shape[i] - slack || a > x.shape[i] - slack)) return null;
    return runPad(backend, x, paddings, mode, 0);
  }),
];
