// Argument checks shared by the kernel functions. Every message names the op, the
// argument, what was expected and what came: "add: expected ... for b but got ...".
import { DeviceArray, type DType } from './array.js';

export function describe(x: unknown): string {
  if (x instanceof DeviceArray) return `a ${x.dtype} array of shape [${x.shape}]`;
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a plain array';
  return typeof x === 'object' ? `a ${(x as object).constructor?.name ?? 'object'}` : `${typeof x} ${String(x)}`;
}

export function checkArray(op: string, arg: string, x: unknown): asserts x is DeviceArray {
  if (!(x instanceof DeviceArray)) throw new Error(`${op}: expected a DeviceArray for ${arg} but got ${describe(x)}`);
  if (x.disposed) throw new Error(`${op}: expected a live DeviceArray for ${arg} but got one already disposed`);
}

export function checkDType(op: string, arg: string, x: DeviceArray, allowed: readonly DType[]): void {
  if (!allowed.includes(x.dtype)) {
    throw new Error(`${op}: expected dtype ${allowed.join(' or ')} for ${arg} but got ${x.dtype}`);
  }
}

export function checkSameDType(op: string, a: DeviceArray, b: DeviceArray, bName = 'b'): void {
  if (a.dtype !== b.dtype) throw new Error(`${op}: expected dtype ${a.dtype} (that of a) for ${bName} but got ${b.dtype}`);
}

export function checkRank(op: string, arg: string, x: DeviceArray, rank: number): void {
  if (x.shape.length !== rank) throw new Error(`${op}: expected rank ${rank} for ${arg} but got shape [${x.shape}]`);
}

export function checkInteger(op: string, arg: string, v: unknown, min = -Infinity): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${op}: expected an integer${min > -Infinity ? ` >= ${min}` : ''} for ${arg} but got ${describe(v)}`);
  }
}

/** numpy broadcasting of two shapes, or an error naming the op. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[i - rank + a.length] ?? 1;
    const db = b[i - rank + b.length] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: expected shapes that broadcast together for a and b but got [${a}] and [${b}]`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}
