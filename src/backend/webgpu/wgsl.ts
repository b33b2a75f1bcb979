// WGSL sources for tessera-webgpu: the kernel templates in kernels/wgsl/*.wgsl, filled in
// and cached, plus the conventions every kernel shares.
//
// Conventions (see kernels/wgsl/README.md):
// - @group(0): inputs at bindings 0..n-1 (var<storage, read>), the output at n
//   (var<storage, read_write>), the parameters at n+1 (var<uniform>), laid out as the
//   `{{META}}` prelude declares: a flat array of 32-bit words read with m(i) (u32), mi(i)
//   (i32) and mf(i) (f32). The JS side packs them with `Meta`.
// - One invocation per output element (or per vec4 of them) in workgroups of 256, over a
//   2-D grid past 65535 workgroups: workgroupsFor() in src/device/webgpu.ts, and
//   `linearIndex(wid, nwg, lid)` in the prelude.
// - float32 is f32, int32 is i32, bool is u32 holding 0 or 1.
import { readFileSync } from 'node:fs';

import type { Program } from '../../device/webgpu.js';

const WGSL_DIR = new URL('../../../kernels/wgsl/', import.meta.url);
const sources = new Map<string, string>();

/** The text of kernels/wgsl/<name>.wgsl. */
export function wgslSource(name: string): string {
  let text = sources.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.wgsl`, WGSL_DIR), 'utf8');
    sources.set(name, text);
  }
  return text;
}

/** Replaces every {{KEY}} of `template`; a placeholder left unfilled is an error. */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  const filled = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
  const left = /\{\{([A-Z0-9_]+)\}\}/.exec(filled);
  if (left !== null) throw new Error(`tessera-webgpu: WGSL template placeholder {{${left[1]}}} has no value`);
  return filled;
}

/** The parameter block and index helpers, for a kernel whose uniforms sit at `binding` and hold `words` 32-bit words. */
export function metaPrelude(binding: number, words: number): string {
  const vec4s = Math.max(1, Math.ceil(words / 4));
  return `struct Params { v: array<vec4<u32>, ${vec4s}> }
@group(0) @binding(${binding}) var<uniform> params: Params;
fn m(i: u32) -> u32 { return params.v[i / 4u][i % 4u]; }
fn mi(i: u32) -> i32 { return bitcast<i32>(m(i)); }
fn mf(i: u32) -> f32 { return bitcast<f32>(m(i)); }
fn linearIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 { return (wid.y * nwg.x + wid.x) * 256u + lid; }
// NaN by its bits: comparisons against NaN may be folded away by shader compilers.
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// NaN and infinities built at run time: WGSL rejects them as constant expressions.
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf() -> f32 { return bitcast<f32>(INF_BITS); }`;
}

/** A program from a template in kernels/wgsl, filled with `values` plus META (the prelude). */
export function templateProgram(key: string, template: string, metaBinding: number, metaWords: number, values: Record<string, string | number> = {}): Program {
  return { key, wgsl: () => fillTemplate(wgslSource(template), { ...values, META: metaPrelude(metaBinding, metaWords) }) };
}

/** Packs kernel parameters as 32-bit words (u32, i32 and f32 bit patterns), padded to vec4s. */
export class Meta {
  private readonly words: number[] = [];
  private readonly floats = new Float32Array(1);
  private readonly bits = new Uint32Array(this.floats.buffer);

  u32(...values: number[]): this {
    for (const v of values) this.words.push(v >>> 0);
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) this.words.push(v | 0);
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) {
      this.floats[0] = v;
      this.words.push(this.bits[0]);
    }
    return this;
  }

  get length(): number {
    return this.words.length;
  }

  /** The words, padded with zeros to a whole number of vec4s. */
  build(): Uint32Array {
    const out = new Uint32Array(Math.max(4, Math.ceil(this.words.length / 4) * 4));
    for (let i = 0; i < this.words.length; i++) out[i] = this.words[i] >>> 0;
    return out;
  }
}

/** WGSL scalar type for a tfjs dtype on the GPU. */
export function wgslType(dtype: string): 'f32' | 'i32' | 'u32' {
  return dtype === 'float32' ? 'f32' : dtype === 'int32' ? 'i32' : 'u32';
}
