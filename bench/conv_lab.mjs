#!/usr/bin/env node
// The convolution kernel lab runner: every variant of native/cpu/conv_lab.h on the same
// operands, for the forward pass and both gradients, checked against the double-accumulating
// references (conv2dRef and its gradients) and timed as the median of repeats.
//
// usage: node bench/conv_lab.mjs [--shapes NAME,... | --shapes N:H:W:C:KH:KW:OC:pad:stride:dilation,...]
//          [--passes forward,input,filter] [--variants 3,6,6@8x32,6@12x32+c512,7] [--threads 2]
//          [--repeats 15] [--stat median|min] [--no-check]
// A variant may carry overrides after '@', joined by '+': RxC pins the direct tile (the small-K
// variant's GEMM kernel set), cN the pixels per backprop-filter block, bN the image rows per
// im2col block, r1 / r2 forward tiles across output rows / inside one, m1 / m2 backprop-filter
// tile rows over filter rows / output channels, i1 / i2 backprop input by the transposed
// forward / the scatter. The columns run in rounds (each once per round), so that load from
// elsewhere on the machine spreads evenly; --stat min reports the best round instead of the
// median (closer to an idle machine's figure when other work shares the cores).
// Named shapes: r56 (1x56x56x64 -> 64, 3x3 same), r56b8 (its batch of 8), c1 and c2 (the
// convnet's two layers: 64x28x28x1 -> 32 and 64x13x13x32 -> 64, 3x3 valid), pw (1x1, 8x28x28x128
// -> 128). pad is same|valid|a number. GFLOP/s = 2 * N*OH*OW*OC * KH*KW*C / seconds / 1e9 for
// every pass (the gradients have the forward's multiply-adds).
// Needs the addon built (npm run build:native).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(join(root, 'build', 'Release', 'tessera.node'));

const NAMED = {
  r56: '1:56:56:64:3:3:64:same:1:1',
  r56b8: '8:56:56:64:3:3:64:same:1:1',
  c1: '64:28:28:1:3:3:32:valid:1:1',
  c2: '64:13:13:32:3:3:64:valid:1:1',
  pw: '8:28:28:128:1:1:128:valid:1:1',
};

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const shapeNames = option('--shapes', 'r56,c1,c2,r56b8').split(',');
const passes = option('--passes', 'forward,input,filter').split(',');
const threads = Number(option('--threads', '2'));
const repeats = Number(option('--repeats', '15'));
const check = !args.includes('--no-check');
const stat = option('--stat', 'median');
native.setNumThreads(threads);

// tfjs's computeConv2DInfo for the three kinds of padding used here.
function geometry(spec) {
  const [n, h, w, c, kh, kw, oc, pad, stride, dilation] = spec.split(':').map((v, i) => (i === 7 ? v : Number(v)));
  const ekh = (kh - 1) * dilation + 1;
  const ekw = (kw - 1) * dilation + 1;
  let oh, ow, top, left;
  if (pad === 'same') {
    oh = Math.ceil(h / stride);
    ow = Math.ceil(w / stride);
    top = Math.floor(Math.max(0, (oh - 1) * stride + ekh - h) / 2);
    left = Math.floor(Math.max(0, (ow - 1) * stride + ekw - w) / 2);
  } else {
    const p = pad === 'valid' ? 0 : Number(pad);
    oh = Math.floor((h + 2 * p - ekh) / stride) + 1;
    ow = Math.floor((w + 2 * p - ekw) / stride) + 1;
    top = p;
    left = p;
  }
  return {
    xShape: [n, h, w, c], filterShape: [kh, kw, c, oc], yShape: [n, oh, ow, oc],
    geo: [stride, stride, dilation, dilation, top, left, oh, ow],
    flops: 2 * n * oh * ow * oc * kh * kw * c,
  };
}

let seed = 12345;
const random = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296 - 0.5;
};
const size = (s) => s.reduce((a, b) => a * b, 1);
const filled = (s) => {
  const a = native.alloc('float32', Math.max(size(s), 1));
  for (let i = 0; i < a.length; i++) a[i] = random();
  return a;
};

const variants = native.convLabVariants('forward');
// [variant, [tileRows, tileCols, chunkPixels, blockRows, rowTiles, filterMode, inputMode], label]
const columns = option('--variants', variants.map((_, i) => i).filter((i) => i > 1).join(',')).split(',').map((spec) => {
  const [v, overrides = ''] = spec.split('@');
  const o = [0, 0, 0, 0, 0, 0, 0];
  for (const part of overrides.split('+').filter(Boolean)) {
    if (part.includes('x')) [o[0], o[1]] = part.split('x').map(Number);
    else if (part[0] === 'c') o[2] = Number(part.slice(1));
    else if (part[0] === 'b') o[3] = Number(part.slice(1));
    else if (part[0] === 'r') o[4] = Number(part.slice(1));
    else if (part[0] === 'm') o[5] = Number(part.slice(1));
    else if (part[0] === 'i') o[6] = Number(part.slice(1));
    else throw new Error(`unknown override ${part}`);
  }
  const label = `${v} ${variants[Number(v)]?.name ?? '?'}${overrides ? '@' + overrides : ''}`;
  return [Number(v), o, label];
});
console.log(`conv lab: ${threads} thread(s), isa ${native.buildInfo().isa}; GFLOP/s, ${stat} of ${repeats} rounds`);
const width = Math.max(18, ...columns.map((c) => c[2].length + 2));
console.log(['shape'.padEnd(8), 'pass'.padEnd(8), ...columns.map((c) => c[2].padStart(width))].join(''));
const notes = new Set();
for (const name of shapeNames) {
  const g = geometry(NAMED[name] ?? name);
  const x = filled(g.xShape), w = filled(g.filterShape), dy = filled(g.yShape);
  for (const pass of passes) {
    const [a, b, outShape] = pass === 'forward' ? [x, w, g.yShape] : pass === 'input' ? [dy, w, g.xShape] : [x, dy, g.filterShape];
    const out = native.alloc('float32', Math.max(size(outShape), 1));
    let ref, reduction;
    if (check) {
      ref = native.alloc('float32', Math.max(size(outShape), 1));
      if (pass === 'forward') {
        native.conv2dRef(x, g.xShape, w, g.filterShape, ref, g.geo, null, null, 'linear', null, null, 0.2);
        reduction = g.filterShape[0] * g.filterShape[1] * g.filterShape[2];
      } else if (pass === 'input') {
        native.conv2dBackpropInputRef(dy, g.yShape, w, g.filterShape, ref, g.xShape, g.geo);
        reduction = g.filterShape[0] * g.filterShape[1] * g.filterShape[3];
      } else {
        native.conv2dBackpropFilterRef(x, g.xShape, dy, g.yShape, ref, g.filterShape, g.geo);
        reduction = size(g.yShape) / g.yShape[3];
      }
    }
    const cells = columns.map(([v, o]) => {
      if (!variants[v]?.available) return { text: 'n/a' };
      const run = () => native.convLab(pass, v, g.xShape, g.filterShape, g.geo, a, b, out, o);
      out.fill(NaN);
      try {
        if (!run()) return { text: '-' };
      } catch (e) {
        notes.add(`${pass} ${v}@${o.join(',')}: ${e.message}`);
        return { text: 'error' };
      }
      let status = '';
      if (check) {
        let maxErr = 0;
        let maxRef = 1;
        for (let i = 0; i < ref.length; i++) {
          maxErr = Math.max(maxErr, Math.abs(out[i] - ref[i]));
          maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        if (!(maxErr <= 1e-6 * Math.sqrt(reduction) * maxRef)) status = ' WRONG';
      }
      return { run, status, times: [] };
    });
    // Rounds: every column once per round; the slow ones stop after 3 once the budget is spent.
    const budget = performance.now() + 4000;
    for (let r = 0; r < repeats && (r < 3 || performance.now() < budget); r++) {
      for (const cell of cells) {
        if (!cell.run) continue;
        const t0 = performance.now();
        cell.run();
        cell.times.push((performance.now() - t0) / 1e3);
      }
    }
    const row = [name.padEnd(8), pass.padEnd(8)];
    for (const cell of cells) {
      if (!cell.run) {
        row.push(cell.text.padStart(width));
        continue;
      }
      cell.times.sort((p, q) => p - q);
      row.push(`${(g.flops / cell.times[stat === 'min' ? 0 : cell.times.length >> 1] / 1e9).toFixed(1)}${cell.status}`.padStart(width));
    }
    console.log(row.join(''));
    for (const t of [out, ref]) if (t) native.release(t);
  }
  for (const t of [x, w, dy]) native.release(t);
}
for (const note of notes) console.log(note);
