// Binary (with broadcasting) and unary kernels on CUDA (kernels/cuda/elementwise.cu).
import { backend_util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

import { cudaKernelConfig } from '../../backend_cuda.js';

const COMPARISONS = ['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual'];
// The kernels' dtypes per op (elementwise.cu's CudaBinarySupports).
const BINARY: Record<string, readonly string[]> = {
  Add: ['float32', 'int32'], Sub: ['float32', 'int32'], Multiply: ['float32', 'int32'], Maximum: ['float32', 'int32'],
  Minimum: ['float32', 'int32'], SquaredDifference: ['float32', 'int32'], RealDiv: ['float32'], Pow: ['float32'],
  ...Object.fromEntries(COMPARISONS.map((op) => [op, ['float32', 'int32']])),
};
const MAX_RANK = 8;

function binaryConfig(kernelName: string): KernelConfig {
  return cudaKernelConfig(kernelName, ({ inputs }, backend) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== b.dtype || !BINARY[kernelName].includes(a.dtype)) return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (outShape.length > MAX_RANK) return null;
    const outDtype = COMPARISONS.includes(kernelName) ? 'bool' : a.dtype;
    const ka = backend.cudaBuffer(a);
    const kb = backend.cudaBuffer(b);
    return backend.launch(outShape, outDtype, (out) => backend.device.kernels.cudaBinary(kernelName, ka, a.shape, kb, b.shape, out));
  });
}

// float32 in, float32 out (elementwise.cu's CudaUnarySupports); the attribute each op reads.
const UNARY: Record<string, (attrs: Record<string, unknown>) => [number?, number?]> = {
  Abs: () => [], Acos: () => [], Acosh: () => [], Asin: () => [], Asinh: () => [], Atan: () => [], Atanh: () => [],
  Ceil: () => [], Cos: () => [], Cosh: () => [], Erf: () => [], Exp: () => [], Expm1: () => [], Floor: () => [],
  Log: () => [], Log1p: () => [], Neg: () => [], Reciprocal: () => [], Rsqrt: () => [], Sign: () => [], Sin: () => [],
  Sinh: () => [], Sqrt: () => [], Square: () => [], Tan: () => [], Tanh: () => [], Relu: () => [], Relu6: () => [],
  Elu: () => [], Selu: () => [], Sigmoid: () => [], Softplus: () => [],
  Step: (attrs) => [attrs.alpha as number],
  LeakyRelu: (attrs) => [attrs.alpha as number],
  ClipByValue: (attrs) => [attrs.clipValueMin as number, attrs.clipValueMax as number],
};

function unaryConfig(kernelName: string): KernelConfig {
  return cudaKernelConfig(kernelName, ({ inputs, attrs = {} }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return null;
    const [attr0, attr1] = UNARY[kernelName](attrs as Record<string, unknown>);
    if ((attr0 !== undefined && typeof attr0 !== 'number') || (attr1 !== undefined && typeof attr1 !== 'number')) return null;
    const kx = backend.cudaBuffer(x);
    return backend.launch(x.shape, 'float32', (out) => backend.device.kernels.cudaUnary(kernelName, kx, out, attr0, attr1));
  });
}

export const elementwiseKernelConfigs: KernelConfig[] = [
  ...Object.keys(BINARY).map(binaryConfig),
  ...Object.keys(UNARY).map(unaryConfig),
];
