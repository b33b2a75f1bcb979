import { Tile, type TensorInfo, type TileAttrs } from '@tensorflow/tfjs-core';

import { tile } from '../../kernels/layout.js';
import { nativeKernelConfig } from '../fallback.js';
import { isNativeDType } from './layout_kernel.js';

export const tileConfig = nativeKernelConfig(
  Tile,
  ({ inputs }) => isNativeDType((inputs as { x: TensorInfo }).x.dtype),
  ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    return backend.adopt(tile(backend.view(x), (attrs as unknown as TileAttrs).reps));
  },
);
