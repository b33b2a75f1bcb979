// GatherV2 and GatherNd on tessera-webgpu (kernels/wgsl/gather.wgsl, gather_nd.wgsl).
//
// Out-of-range indices: tfjs-backend-cpu throws ("GatherV2: the index value I is not in
// [0, N]", "Invalid indices: ... does not index into ..."), and tfjs-core's suite expects
// the throw on every backend that is not webgl/webgpu. So the indices are checked here, on
// the CPU, before anything is recorded: free when they came from the CPU (the usual case:
// tensors built from arrays), a synchronous read when a GPU kernel produced them. The
// shaders still guard every index (zeros, never a read outside x).
import type { GatherV2Attrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, GatherNd, GatherV2, util } from '@tensorflow/tfjs-core';

import { workgroupsFor } from '../../../device/webgpu.js';
import { gpuKernelConfig } from '../../backend_webgpu.js';
import { Meta, templateProgram } from '../wgsl.js';
import { isWordDType } from './movement.js';

/** Depths of GatherNd index rows the shader is compiled for (a loop bound). */
const MAX_ND_DEPTH = 8;

export const gatherKernelConfigs: KernelConfig[] = [
  gpuKernelConfig(GatherV2, ({ inputs, attrs }, backend) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    if (!isWordDType(x.dtype) || indices.dtype !== 'int32') return null;
    const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
    const axisDim = x.shape[parsedAxis];
    // tfjs-backend-cpu checks every index first, with this message, before any shape check.
    const values = backend.readSync(indices.dataId) as Int32Array;
    for (let i = 0; i < values.length; i++) {
      const index = values[i];
      util.assert(index <= axisDim - 1 && index >= 0, () => `GatherV2: the index value ${index} is not in [0, ${axisDim - 1}]`);
    }
    const info = backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims ?? 0);
    const size = util.sizeFromShape(info.outputShape);
    if (size === 0) return backend.makeOutput(info.outputShape, x.dtype);
    const n = util.sizeFromShape(indices.shape) / info.batchSize;
    const vec4 = info.sliceSize % 4 === 0;
    const q = vec4 ? 4 : 1;
    const meta = new Meta().u32(size / q, info.sliceSize / q, n, info.outerSize, info.dimSize);
    const program = templateProgram(`gather/${vec4 ? 'vec4' : 'u32'}`, 'gather', 3, meta.length, { W: vec4 ? 'vec4<u32>' : 'u32' });
    return backend.runProgram(program, [x, indices], info.outputShape, x.dtype, meta.build(), workgroupsFor(size / q, 256));
  }),
  gpuKernelConfig(GatherNd, ({ inputs }, backend) => {
    const { params, indices } = inputs as { params: TensorInfo; indices: TensorInfo };
    if (!isWordDType(params.dtype) || indices.dtype !== 'int32') return null;
    const [resultShape, numSlices, sliceSize, strides] = backend_util.prepareAndValidate(params, indices);
    const depth = indices.shape[indices.shape.length - 1];
    if (depth > MAX_ND_DEPTH) return null;
    if (numSlices === 0) return backend.makeOutput(resultShape, params.dtype);
    const slices = util.sizeFromShape(params.shape) / sliceSize;
    const values = backend.readSync(indices.dataId) as Int32Array;
    for (let r = 0; r < numSlices; r++) {
      let flat = 0;
      for (let j = 0; j < depth; j++) flat += values[r * depth + j] * strides[j];
      if (flat < 0 || flat >= slices) {
        throw new Error(`Invalid indices: ${Array.from(values.subarray(r * depth, (r + 1) * depth))} does not index into ${params.shape}`);
      }
    }
    const size = numSlices * sliceSize;
    if (size === 0) return backend.makeOutput(resultShape, params.dtype);
    const meta = new Meta().u32(size, sliceSize, slices).i32(...strides);
    const program = templateProgram(`gather_nd/${depth}`, 'gather_nd', 3, meta.length, { DEPTH: depth });
    return backend.runProgram(program, [params, indices], resultShape, params.dtype, meta.build(), workgroupsFor(size, 256));
  }),
];
