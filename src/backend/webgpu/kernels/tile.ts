// Tile on tessera-webgpu (kernels/wgsl/tile.wgsl): out[coord] = x[coord % x.shape]. Each dim
// that is not repeated is folded into the one outside it (its coordinate then runs through
// the merged modulo unchanged), so e.g. tiling rows of a matrix is a 1-D kernel.
import type { KernelConfig, TensorInfo, TileAttrs } from '@tensorflow/tfjs-core';
import { Tile, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';
import { affineGather, isWordDType, MAX_AFFINE_RANK, stridesOf } from './movement.js';

export const tileKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(Tile, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { reps } = attrs as unknown as TileAttrs;
    if (!isWordDType(x.dtype) || reps.length !== x.shape.length || !reps.every((r) => Number.isInteger(r) && r >= 0)) return null;
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const size = util.sizeFromShape(outShape);
    if (size === 0 || reps.every((r) => r === 1)) {
      return affineGather(backend, x, outShape, x.dtype, { base: 0, dims: outShape.map((extent, d) => ({ extent, stride: stridesOf(x.shape)[d] })) });
    }
    // [out extent, x extent] per dim, innermost merged outward while it is not repeated.
    const dims: Array<[number, number]> = [];
    for (let d = x.shape.length - 1; d >= 0; d--) {
      if (outShape[d] === 1) continue;
      const inner = dims[0];
      if (inner !== undefined && inner[0] === inner[1]) {
        inner[0] *= outShape[d];
        inner[1] *= x.shape[d];
      } else {
        dims.unshift([outShape[d], x.shape[d]]);
      }
    }
    if (dims.length > MAX_AFFINE_RANK) return null;
    const strides = stridesOf(dims.map(([, n]) => n));
    const meta = new Meta().u32(size);
    dims.forEach(([out, n], d) => meta.u32(out, n, strides[d]));
    const program = templateProgram(`tile/${dims.length}`, 'tile', 2, meta.length, { RANK: dims.length });
    return backend.runProgram(program, [x], outShape, x.dtype, meta.build(), workgroupsFor(size, 256));
  }),
];
