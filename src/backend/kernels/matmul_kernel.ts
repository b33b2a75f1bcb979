// Shared checks of the BatchMatMul and _FusedMatMul adapters: which inputs the native product
// computes exactly as tfjs-backend-cpu does. The rest go to tfjs-backend-cpu, which also
// raises tfjs's own errors for shapes that do not fit.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import { matMulShape } from '../../kernels/matmul.js';

/**
 * tfjs-backend-cpu indexes the batch of each operand as (output batch index) % (operand batch
 * size). That is numpy broadcasting when the operand's batch dimensions, leading 1s dropped,
 * are the trailing dimensions of the output's (or the operand has no batch at all); otherwise
 * it reads other matrices (e.g. [2, 1] against [2, 3]) and is left to tfjs-backend-cpu.
 */
function moduloIndexingBroadcasts(operand: readonly number[], out: readonly number[]): boolean {
  let first = 0;
  while (first < operand.length && operand[first] === 1) first++;
  const kept = operand.slice(first);
  const tail = out.slice(out.length - kept.length);
  return kept.length <= out.length && kept.every((d, i) => d === tail[i]);
}

/** The output shape when the native product computes this BatchMatMul as tfjs would, else undefined. */
export function nativeMatMulShape(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): number[] | undefined {
  if (a.dtype !== b.dtype) return undefined;
  let shape: number[];
  try {
    shape = matMulShape('matMul', a.shape, b.shape, transposeA, transposeB);
  } catch {
    return undefined;
  }
  const batch = shape.slice(0, -2);
  if (!moduloIndexingBroadcasts(a.shape.slice(0, -2), batch) || !moduloIndexingBroadcasts(b.shape.slice(0, -2), batch)) {
    return undefined;
  }
  return shape;
}

/** Whether `x` (bias or prelu weights) is float32 and broadcasts to `shape` without enlarging it. */
export function broadcastsInto(x: TensorInfo, shape: readonly number[]): boolean {
  if (x.dtype !== 'float32' || x.shape.length > shape.length) return false;
  for (let i = 1; i <= x.shape.length; i++) {
    const d = x.shape[x.shape.length - i];
    if (d !== 1 && d !== shape[shape.length - i]) return false;
  }
  return true;
}
