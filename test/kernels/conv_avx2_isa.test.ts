// The regular convolutions' direct tiles are compiled per ISA and conv.test.ts runs the
// engine on the machine's widest. Vitest runs each file in its own process, so this one caps
// the ISA at AVX2 before the addon loads and runs the engine's AVX2 tiles (and the AVX2 GEMM
// epilogue they finish with) against the reference.
import { describe, expect, it } from 'vitest';

import { checkLeaks, expectClose, randomValues, rng } from '../helpers.js';

process.env.TESSERA_ISA = 'avx2';
const { native } = await import('../../src/native.js');
const { array, conv2d, conv2dBackpropFilter, conv2dBackpropFilterRef, conv2dBackpropInput, conv2dBackpropInputRef, conv2dRef, resolveConv2D } =
  await import('../../src/kernels/index.js');

checkLeaks();

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
// A CPU without AVX2 runs the generic path, which conv_generic_isa.test.ts covers.
const hasAvx2 = native.buildInfo().isa === 'avx2';

describe.runIf(hasAvx2)('conv2d engine on the AVX2 tiles', () => {
  it('forward (fused) and both gradients agree with the reference', () => {
    const rand = rng(3030);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 16; trial++) {
      const xShape = [int(1, 3), int(2, 12), int(2, 12), [8, 13, 16, 35][int(0, 3)]];
      const fShape = [int(1, 3), int(1, 3), xShape[3], [8, 12, 20, 33, 48][int(0, 4)]];
      const pad = (['same', 'valid', 1] as const)[trial % 3];
      const options = { pad, strides: trial % 4 === 3 ? 2 : 1 };
      const outShape = resolveConv2D('test', xShape, fShape, options, false).outShape;
      if (outShape[1] <= 0 || outShape[2] <= 0) continue;
      const x = array(randomValues(rand, size(xShape), 'float32', -1, 1), xShape);
      const f = array(randomValues(rand, size(fShape), 'float32', -1, 1), fShape);
      const dy = array(randomValues(rand, size(outShape), 'float32', -1, 1), outShape);
      const bias = array(randomValues(rand, fShape[3], 'float32', -1, 1), [fShape[3]]);
      const fused = { ...options, bias, activation: trial % 2 === 0 ? 'elu' as const : 'relu6' as const };
      const tol = (n: number) => ({ abs: 1e-6 * (n + 1), rel: 1e-5 });
      const results = [
        [conv2d(x, f, fused), conv2dRef(x, f, fused), fShape[0] * fShape[1] * fShape[2]],
        [conv2dBackpropInput(dy, f, xShape, options), conv2dBackpropInputRef(dy, f, xShape, options), fShape[0] * fShape[1] * fShape[3]],
        [conv2dBackpropFilter(x, dy, fShape, options), conv2dBackpropFilterRef(x, dy, fShape, options), size(outShape) / fShape[3]],
      ] as const;
      for (const [out, ref, reduction] of results) {
        expectClose(out.data, ref.data, 'float32', tol(reduction));
        out.dispose();
        ref.dispose();
      }
      for (const a of [x, f, dy, bias]) a.dispose();
    }
    expect(native.buildInfo().isa).toBe('avx2');
  });
});
