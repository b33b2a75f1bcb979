// FusedBatchNorm on tessera-webgpu (kernels/wgsl/batchnorm.wgsl): one elementwise pass,
// broadcasting the parameters as tfjs-backend-cpu does (flat index modulo each length),
// four elements per invocation when every length is a multiple of four. Cases tfjs-backend-cpu
// reports or reads past the end of (unequal parameter ranks, an empty parameter) run there.
import type { FusedBatchNormAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { FusedBatchNorm, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';

interface BatchNormInputs {
  x: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  offset?: TensorInfo | null;
  scale?: TensorInfo | null;
}

export const batchnormKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(FusedBatchNorm, ({ inputs, attrs }, backend) => {
    const { x, mean, variance, offset, scale } = inputs as unknown as BatchNormInputs;
    const epsilon = (attrs as unknown as FusedBatchNormAttrs | undefined)?.varianceEpsilon ?? 0.001;
    const params = [mean, variance, offset, scale].filter((p): p is TensorInfo => p != null);
    if (x.dtype !== 'float32' || typeof epsilon !== 'number') return null;
    if (!params.every((p) => p.dtype === 'float32' && p.shape.length === mean.shape.length && util.sizeFromShape(p.shape) > 0)) return null;
    const size = util.sizeFromShape(x.shape);
    if (size === 0) return backend.makeOutput(x.shape, 'float32');
    const lengths = [mean, variance, offset, scale].map((p) => (p == null ? 1 : util.sizeFromShape(p.shape)));
    const vec4 = size % 4 === 0 && [mean, variance, offset, scale].every((p, k) => p == null || lengths[k] % 4 === 0);
    const q = vec4 ? 4 : 1;
    const v = vec4 ? 'vec4<f32>' : 'f32';
    const bound: TensorInfo[] = [x, mean, variance];
    const decls = ['x', 'mean', 'variance'].map((name, k) => `@group(0) @binding(${k}) var<storage, read> ${name}: array<${v}>;`);
    const read = (p: TensorInfo | null | undefined, name: string, word: number, fallback: string) => {
      if (p == null) return fallback;
      decls.push(`@group(0) @binding(${bound.length}) var<storage, read> ${name}: array<${v}>;`);
      bound.push(p);
      return `${name}[i % m(${word}u)]`;
    };
    const offsetExpr = read(offset, 'offset', 3, `${v}(0.0)`);
    const scaleExpr = read(scale, 'scale', 4, `${v}(1.0)`);
    decls.push(`@group(0) @binding(${bound.length}) var<storage, read_write> out: array<${v}>;`);
    const meta = new Meta().u32(size / q, ...lengths.map((n) => Math.max(1, n / q))).f32(epsilon);
    const program = templateProgram(`batchnorm/${v}/${offset == null ? '' : 'o'}${scale == null ? '' : 's'}`, 'batchnorm', bound.length + 1, meta.length, {
      BINDINGS: decls.join('\n'), OFFSET: offsetExpr, SCALE: scaleExpr, V: v,
    });
    return backend.runProgram(program, bound, x.shape, 'float32', meta.build(), workgroupsFor(size / q, 256));
  }),
];
