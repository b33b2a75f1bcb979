// MaxPool, AvgPool and their gradients (float32, NHWC) on CUDA (kernels/cuda/pool.cu), with
// tfjs's computePool2DInfo geometry through resolvePool2D, as on tessera-cpu.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { cudaKernelConfig } from '../../backend_cuda.js';
import { resolvePool2D, type DimRoundingMode, type PoolPadding, type PoolSize } from '../../../kernels/pool.js';

interface PoolAttrs {
  filterSize: PoolSize;
  strides: PoolSize;
  pad: PoolPadding;
  dimRoundingMode?: DimRoundingMode;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function forward(kernelName: 'MaxPool' | 'AvgPool'): KernelConfig {
  return cudaKernelConfig(kernelName, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    if (x.dtype !== 'float32') return null;
    const g = resolvePool2D(x.shape, a.filterSize, a.strides, a.pad, a.dimRoundingMode);
    if (g === undefined) return null;
    // tfjs-backend-cpu returns x itself for a 1x1 window that keeps the shape (NaN included).
    if (g.isIdentity) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }
    const kx = backend.cudaBuffer(x);
    return backend.launch([...g.outShape], 'float32', (out) =>
      backend.device.kernels.cudaPool2d(kernelName === 'MaxPool' ? 'max' : 'avg', kx, g.geometry, out));
  });
}

export const poolKernelConfigs: KernelConfig[] = [
  forward('MaxPool'),
  forward('AvgPool'),
  cudaKernelConfig('MaxPoolGrad', ({ inputs, attrs }, backend) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    if (dy.dtype !== 'float32' || input.dtype !== 'float32') return null;
    const g = resolvePool2D(input.shape, a.filterSize, a.strides, a.pad, a.dimRoundingMode);
    if (g === undefined || !sameShape(g.outShape, dy.shape)) return null;
    const kdy = backend.cudaBuffer(dy), kx = backend.cudaBuffer(input);
    return backend.launch(input.shape, 'float32', (dx) => backend.device.kernels.cudaMaxPoolGrad(kdy, kx, g.geometry, dx));
  }),
  cudaKernelConfig('AvgPoolGrad', ({ inputs, attrs }, backend) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    if (dy.dtype !== 'float32') return null;
    const g = resolvePool2D(input.shape, a.filterSize, a.strides, a.pad, a.dimRoundingMode);
    if (g === undefined || !sameShape(g.outShape, dy.shape)) return null;
    const kdy = backend.cudaBuffer(dy);
    return backend.launch(input.shape, 'float32', (dx) => backend.device.kernels.cudaAvgPoolGrad(kdy, g.geometry, dx));
  }),
];
