// FusedBatchNorm (float32) on CUDA (kernels/cuda/batchnorm.cu).
import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { cudaKernelConfig } from '../../backend_cuda.js';

export const batchNormKernelConfigs: KernelConfig[] = [
  cudaKernelConfig('FusedBatchNorm', ({ inputs, attrs = {} }, backend) => {
    const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
    const params = [mean, variance, offset, scale].filter((p): p is TensorInfo => p != null);
    if (x!.dtype !== 'float32' || params.some((p) => p.dtype !== 'float32' || util.sizeFromShape(p.shape) === 0)) return null;
    const epsilon = (attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
    const kx = backend.cudaBuffer(x!);
    const km = backend.cudaBuffer(mean!), kv = backend.cudaBuffer(variance!);
    const ko = offset == null ? null : backend.cudaBuffer(offset);
    const ks = scale == null ? null : backend.cudaBuffer(scale);
    return backend.launch(x!.shape, 'float32', (out) => backend.device.kernels.cudaBatchNorm(kx, km, kv, ko, ks, epsilon, out));
  }),
];
