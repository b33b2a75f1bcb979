// Reverse on tessera-webgpu: an affine map (movement.ts) that starts at the far end of every
// reversed dim and walks it with a negative stride; one dispatch of the affine shader.
import type { KernelConfig, ReverseAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { Reverse, util } from '@tensorflow/tfjs-core';

import { gpuKernelConfig } from '../../backend_webgpu.js';
import { affineGather, isWordDType, stridesOf, type AffineMap } from './movement.js';

export const reverseKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(Reverse, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { dims } = attrs as unknown as ReverseAttrs;
    if (!isWordDType(x.dtype)) return null;
    const axes = new Set(util.parseAxisParam(dims, x.shape));
    const strides = stridesOf(x.shape);
    const map: AffineMap = { base: 0, dims: [] };
    x.shape.forEach((extent, d) => {
      const reversed = axes.has(d) && extent > 1;
      if (reversed) map.base += (extent - 1) * strides[d];
      map.dims.push({ extent, stride: reversed ? -strides[d] : strides[d] });
    });
    // Rank 0, or only extent-1 dims reversed: the map is x itself and its storage is shared.
    return affineGather(backend, x, [...x.shape], x.dtype, map);
  }),
];
