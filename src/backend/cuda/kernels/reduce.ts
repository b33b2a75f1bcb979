// Reductions and Softmax on CUDA (kernels/cuda/reduce.cu, softmax.cu).
import { backend_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { cudaKernelConfig } from '../../backend_cuda.js';

const MAX_RANK = 8;

function reduceConfig(kernelName: string, arg: boolean): KernelConfig {
  return cudaKernelConfig(kernelName, ({ inputs, attrs = {} }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length > MAX_RANK) return null;
    const a = attrs as { axis?: number | number[]; keepDims?: boolean };
    let axes: number[];
    try {
      axes = util.parseAxisParam(a.axis ?? (arg ? 0 : null as unknown as number[]), x.shape);
    } catch {
      return null;  // tfjs-backend-cpu raises tfjs's own error
    }
    if (arg && axes.length !== 1) return null;
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = !arg && a.keepDims === true ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const outDtype = arg ? 'int32' : kernelName === 'Mean' ? 'float32' : x.dtype;
    const kx = backend.cudaBuffer(x);
    return backend.launch(shape, outDtype, (out) => backend.device.kernels.cudaReduce(kernelName, kx, x.shape, axes, out));
  });
}

export const reduceKernelConfigs: KernelConfig[] = [
  reduceConfig('Sum', false),
  reduceConfig('Mean', false),
  reduceConfig('Prod', false),
  reduceConfig('Max', false),
  reduceConfig('Min', false),
  reduceConfig('ArgMax', true),
  reduceConfig('ArgMin', true),
  cudaKernelConfig('Softmax', ({ inputs, attrs = {} }, backend) => {
    const { logits } = inputs as { logits: TensorInfo };
    const dim = (attrs as { dim?: number }).dim ?? -1;
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
    const kx = backend.cudaBuffer(logits);
    return backend.launch(logits.shape, 'float32', (out) => backend.device.kernels.cudaSoftmax(kx, logits.shape, out));
  }),
];
