// tfjs's _FusedMatMul: float32 product, bias and activation in one pass. Natively when the
// bias and prelu weights broadcast to the product's shape without enlarging it (a bias of
// shape [n], [1, n], [m, n], a scalar, ...); otherwise, and for int32 (where tfjs's int32
// activations change dtypes), tfjs-backend-cpu's Add-then-activation.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { ACTIVATIONS, matMul, type Activation } from '../../kernels/matmul.js';
import { nativeKernelConfig } from '../fallback.js';
import { broadcastsInto, nativeMatMulShape } from './matmul_kernel.js';

type Inputs = { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
type Attrs = { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };

export const _fusedMatMulConfig = nativeKernelConfig(
  '_FusedMatMul',
  ({ inputs, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs as Inputs;
    const { transposeA = false, transposeB = false, activation, leakyreluAlpha } = (attrs ?? {}) as Attrs;
    if (a.dtype !== 'float32') return false;
    const shape = nativeMatMulShape(a, b, transposeA, transposeB);
    if (shape === undefined) return false;
    if (bias != null && !broadcastsInto(bias, shape)) return false;
    // tfjs skips the activation when none is given; 'linear' is its identity.
    if (activation && !(ACTIVATIONS as readonly string[]).includes(activation)) return false;
    if (activation === 'leakyrelu' && typeof leakyreluAlpha !== 'number') return false;
    if (activation === 'prelu' && (preluActivationWeights == null || !broadcastsInto(preluActivationWeights, shape))) return false;
    return true;
  },
  ({ inputs, attrs }, backend) => {
    const { a, b, bias, preluActivationWeights } = inputs as Inputs;
    const { transposeA = false, transposeB = false, activation, leakyreluAlpha } = (attrs ?? {}) as Attrs;
    const act = (activation || 'linear') as Activation;
    return backend.adopt(matMul(backend.view(a), backend.view(b), {
      transposeA,
      transposeB,
      bias: bias != null ? backend.view(bias) : undefined,
      activation: act,
      leakyreluAlpha: act === 'leakyrelu' ? leakyreluAlpha : undefined,
      preluActivationWeights: act === 'prelu' ? backend.view(preluActivationWeights!) : undefined,
    }));
  },
);
