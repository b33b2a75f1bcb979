// OneHot on tessera-webgpu (kernels/wgsl/onehot.wgsl): one invocation per output element.
import type { DataType, KernelConfig, OneHotAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { OneHot, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';
import { isWordDType } from './movement.js';

/** The GPU word for `value` in `dtype`, converted as the dtype's typed array would. */
function word(value: number, dtype: DataType): number {
  if (dtype === 'float32') return new Uint32Array(new Float32Array([value]).buffer)[0];
  if (dtype === 'int32') return new Uint32Array(new Int32Array([value]).buffer)[0];
  return new Uint8Array([value])[0] !== 0 ? 1 : 0;
}

export const onehotKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(OneHot, ({ inputs, attrs }, backend) => {
    const { indices } = inputs as { indices: TensorInfo };
    const { depth, onValue, offValue, dtype } = attrs as unknown as OneHotAttrs;
    if (indices.dtype !== 'int32' || !isWordDType(dtype) || !Number.isInteger(depth) || depth < 0) return null;
    const outShape = [...indices.shape, depth];
    const size = util.sizeFromShape(outShape);
    if (size === 0) return backend.makeOutput(outShape, dtype);
    const meta = new Meta().u32(size, depth, word(onValue, dtype), word(offValue, dtype));
    const program = templateProgram('onehot', 'onehot', 2, meta.length);
    return backend.runProgram(program, [indices], outShape, dtype, meta.build(), workgroupsFor(size, 256));
  }),
];
