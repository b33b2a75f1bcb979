// The explicit list of tessera-cpu's native kernels. Everything else falls back to
// tfjs-backend-cpu (fallback.ts); `tessera info` prints both lists.
import { registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';

import { addConfig } from './kernels/Add.js';
import { atan2Config } from './kernels/Atan2.js';
import { avgPoolConfig } from './kernels/AvgPool.js';
import { avgPoolGradConfig } from './kernels/AvgPoolGrad.js';
import { bitwiseAndConfig } from './kernels/BitwiseAnd.js';
import { conv2DConfig } from './kernels/Conv2D.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { depthwiseConv2dNativeConfig } from './kernels/DepthwiseConv2dNative.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.js';
import { concatConfig } from './kernels/Concat.js';
import { equalConfig } from './kernels/Equal.js';
import { expandDimsConfig } from './kernels/ExpandDims.js';
import { floorDivConfig } from './kernels/FloorDiv.js';
import { fusedConv2DConfig } from './kernels/FusedConv2D.js';
import { fusedDepthwiseConv2DConfig } from './kernels/FusedDepthwiseConv2D.js';
import { fusedBatchNormConfig } from './kernels/FusedBatchNorm.js';
import { gatherNdConfig } from './kernels/GatherNd.js';
import { gatherV2Config } from './kernels/GatherV2.js';
import { greaterConfig } from './kernels/Greater.js';
import { greaterEqualConfig } from './kernels/GreaterEqual.js';
import { identityConfig } from './kernels/Identity.js';
import { lessConfig } from './kernels/Less.js';
import { lessEqualConfig } from './kernels/LessEqual.js';
import { logicalAndConfig } from './kernels/LogicalAnd.js';
import { logicalOrConfig } from './kernels/LogicalOr.js';
import { maximumConfig } from './kernels/Maximum.js';
import { maxPoolConfig } from './kernels/MaxPool.js';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
import { minimumConfig } from './kernels/Minimum.js';
import { mirrorPadConfig } from './kernels/MirrorPad.js';
import { modConfig } from './kernels/Mod.js';
import { multiplyConfig } from './kernels/Multiply.js';
import { notEqualConfig } from './kernels/NotEqual.js';
import { oneHotConfig } from './kernels/OneHot.js';
import { packConfig } from './kernels/Pack.js';
import { padV2Config } from './kernels/PadV2.js';
import { powConfig } from './kernels/Pow.js';
import { realDivConfig } from './kernels/RealDiv.js';
import { resizeBilinearConfig } from './kernels/ResizeBilinear.js';
import { resizeBilinearGradConfig } from './kernels/ResizeBilinearGrad.js';
import { resizeNearestNeighborConfig } from './kernels/ResizeNearestNeighbor.js';
import { resizeNearestNeighborGradConfig } from './kernels/ResizeNearestNeighborGrad.js';
import { reshapeConfig } from './kernels/Reshape.js';
import { reverseConfig } from './kernels/Reverse.js';
import { sliceConfig } from './kernels/Slice.js';
import { splitVConfig } from './kernels/SplitV.js';
import { squaredDifferenceConfig } from './kernels/SquaredDifference.js';
import { stridedSliceConfig } from './kernels/StridedSlice.js';
import { subConfig } from './kernels/Sub.js';
import { tileConfig } from './kernels/Tile.js';
import { transposeConfig } from './kernels/Transpose.js';
import { unpackConfig } from './kernels/Unpack.js';

export const NATIVE_KERNEL_CONFIGS: readonly KernelConfig[] = [
  addConfig,
  atan2Config,
  avgPoolConfig,
  avgPoolGradConfig,
  bitwiseAndConfig,
  conv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  concatConfig,
  equalConfig,
  expandDimsConfig,
  floorDivConfig,
  fusedConv2DConfig,
  fusedDepthwiseConv2DConfig,
  fusedBatchNormConfig,
  gatherNdConfig,
  gatherV2Config,
  greaterConfig,
  greaterEqualConfig,
  identityConfig,
  lessConfig,
  lessEqualConfig,
  logicalAndConfig,
  logicalOrConfig,
  maximumConfig,
  maxPoolConfig,
  maxPoolGradConfig,
  minimumConfig,
  mirrorPadConfig,
  modConfig,
  multiplyConfig,
  notEqualConfig,
  oneHotConfig,
  packConfig,
  padV2Config,
  powConfig,
  realDivConfig,
  resizeBilinearConfig,
  resizeBilinearGradConfig,
  resizeNearestNeighborConfig,
  resizeNearestNeighborGradConfig,
  reshapeConfig,
  reverseConfig,
  sliceConfig,
  splitVConfig,
  squaredDifferenceConfig,
  stridedSliceConfig,
  subConfig,
  tileConfig,
  transposeConfig,
  unpackConfig,
];

export function registerNativeKernels(): Set<string> {
  for (const config of NATIVE_KERNEL_CONFIGS) registerKernel(config);
  return new Set(NATIVE_KERNEL_CONFIGS.map((c) => c.kernelName));
}
