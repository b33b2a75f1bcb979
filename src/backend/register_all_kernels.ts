// The explicit list of tessera-cpu's native kernels. Everything else falls back to
// tfjs-backend-cpu (fallback.ts); `tessera info` prints both lists.
import { registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';

import { _fusedMatMulConfig } from './kernels/_FusedMatMul.js';
import { addConfig } from './kernels/Add.js';
import { atan2Config } from './kernels/Atan2.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { bitwiseAndConfig } from './kernels/BitwiseAnd.js';
import { equalConfig } from './kernels/Equal.js';
import { floorDivConfig } from './kernels/FloorDiv.js';
import { greaterConfig } from './kernels/Greater.js';
import { greaterEqualConfig } from './kernels/GreaterEqual.js';
import { lessConfig } from './kernels/Less.js';
import { lessEqualConfig } from './kernels/LessEqual.js';
import { logicalAndConfig } from './kernels/LogicalAnd.js';
import { logicalOrConfig } from './kernels/LogicalOr.js';
import { maximumConfig } from './kernels/Maximum.js';
import { minimumConfig } from './kernels/Minimum.js';
import { modConfig } from './kernels/Mod.js';
import { multiplyConfig } from './kernels/Multiply.js';
import { notEqualConfig } from './kernels/NotEqual.js';
import { powConfig } from './kernels/Pow.js';
import { realDivConfig } from './kernels/RealDiv.js';
import { squaredDifferenceConfig } from './kernels/SquaredDifference.js';
import { subConfig } from './kernels/Sub.js';

export const NATIVE_KERNEL_CONFIGS: readonly KernelConfig[] = [
  _fusedMatMulConfig,
  addConfig,
  atan2Config,
  batchMatMulConfig,
  bitwiseAndConfig,
  equalConfig,
  floorDivConfig,
  greaterConfig,
  greaterEqualConfig,
  lessConfig,
  lessEqualConfig,
  logicalAndConfig,
  logicalOrConfig,
  maximumConfig,
  minimumConfig,
  modConfig,
  multiplyConfig,
  notEqualConfig,
  powConfig,
  realDivConfig,
  squaredDifferenceConfig,
  subConfig,
];

export function registerNativeKernels(): Set<string> {
  for (const config of NATIVE_KERNEL_CONFIGS) registerKernel(config);
  return new Set(NATIVE_KERNEL_CONFIGS.map((c) => c.kernelName));
}
