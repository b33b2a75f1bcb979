#!/usr/bin/env node
// The CUDA kernel lab runner (kernels/cuda/lab.cuh): every SGEMM and forward-convolution
// variant on the same operands, checked against the CPU references (SgemmRef, Conv2DRef),
// timed as the median of samples that each enqueue a few runs and wait for the stream.
//
// usage: node bench/cuda_lab.mjs [--device cuda:N] [--sizes 1024,4096 | MxNxK,...] [--variants 1,3,4]
//          [--convs NxHxWxC:FHxFWxOC,...] [--repeats 9] [--no-check]
// GFLOP/s = 2*m*n*k / seconds / 1e9 (convolution: 2 * N*OH*OW*OC * FH*FW*C). The TF32 and BF16
// variants are checked with their own tolerance (inputs rounded to 10 and 7 mantissa bits).
// The references: SgemmRef (the CPU engine above ~650^3) and tessera-cpu's Conv2D.
// Needs a CUDA device; elsewhere it says why and exits.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(join(root, 'build', 'Release', 'tessera.node'));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

const info = native.cudaInfo();
if (!info.available) {
  console.error(`cuda lab: ${info.reason}`);
  process.exit(1);
}
const device = Number(/^cuda:(\d+)$/.exec(option('--device', 'cuda:0'))?.[1] ?? NaN);
if (!(device >= 0 && device < info.devices.length)) {
  console.error(`cuda lab: expected --device cuda:0..cuda:${info.devices.length - 1}`);
  process.exit(2);
}
const sizes = option('--sizes', '256,1024,4096').split(',').map((s) => {
  const parts = s.split('x').map(Number);
  return parts.length === 1 ? [parts[0], parts[0], parts[0]] : parts;
});
const convs = option('--convs', '32x56x56x64:3x3x64,64x28x28x128:3x3x128,64x28x28x3:5x5x32').split(',').map((s) => {
  const [x, f] = s.split(':');
  const [n, h, w, c] = x.split('x').map(Number);
  const [fh, fw, oc] = f.split('x').map(Number);
  return { xShape: [n, h, w, c], filterShape: [fh, fw, c, oc] };
});
const repeats = Number(option('--repeats', '9'));
const check = !args.includes('--no-check');
const variants = native.cudaLabVariants();

let seed = 12345;
const random = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296 - 0.5;
};
const upload = (values) => {
  const b = native.cudaAlloc(device, 'float32', values.length);
  native.cudaUpload(b, values);
  return b;
};
const download = (b, length) => {
  const out = new Float32Array(length);
  native.cudaDownload(b, out);
  return out;
};

/** Median seconds per run: each sample enqueues `inner` runs and waits for the stream. */
function time(run, flops) {
  run();
  native.cudaSync(device);
  const t0 = performance.now();
  run();
  native.cudaSync(device);
  const once = (performance.now() - t0) / 1e3;
  const inner = Math.max(1, Math.min(50, Math.floor(0.05 / Math.max(once, 1e-6))));
  const samples = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    for (let i = 0; i < inner; i++) run();
    native.cudaSync(device);
    samples.push((performance.now() - start) / 1e3 / inner);
  }
  samples.sort((a, b) => a - b);
  return flops / samples[samples.length >> 1] / 1e9;
}

function maxError(out, ref) {
  let err = 0, scale = 1;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(out[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return err / scale;
}

const d = info.devices[device];
console.log(`cuda lab on cuda:${device} ${d.name} (sm ${d.computeCapability}); GFLOP/s, WRONG where the check fails`);
console.log(['sgemm m x n x k'.padEnd(20), ...variants.sgemm.map((name, i) => `${i + 1} ${name}`.padStart(18))].join(''));
const chosen = option('--variants', variants.sgemm.map((_, i) => i + 1).join(',')).split(',').map(Number);
for (const [m, n, k] of sizes) {
  const a = Float32Array.from({ length: m * k }, random);
  const b = Float32Array.from({ length: k * n }, random);
  const da = upload(a), db = upload(b), dc = native.cudaAlloc(device, 'float32', m * n);
  let ref;
  if (check) {
    // The scalar reference up to ~650^3; the CPU engine (tested against it) beyond.
    ref = new Float32Array(m * n);
    native.sgemm(m * n * k <= 2 ** 28 ? 'ref' : 'auto', false, false, m, n, k, a, k, b, n, ref, n, false, null, false, 'linear', 0, null, false);
  }
  const row = [`${m}x${n}x${k}`.padEnd(20)];
  for (let v = 1; v <= variants.sgemm.length; v++) {
    if (!chosen.includes(v)) {
      row.push('-'.padStart(18));
      continue;
    }
    const run = () => native.cudaSgemmLab(v, m, n, k, da, db, dc);
    const gflops = time(run, 2 * m * n * k);
    let status = '';
    if (ref) {
      const tolerance = variants.sgemm[v - 1] === 'wmma_tf32' ? 3e-3 : variants.sgemm[v - 1] === 'wmma_bf16' ? 2e-2 : 1e-5 * Math.sqrt(k);
      if (!(maxError(download(dc, m * n), ref) <= tolerance)) status = ' WRONG';
    }
    row.push(`${gflops.toFixed(0)}${status}`.padStart(18));
  }
  console.log(row.join(''));
  for (const x of [da, db, dc]) native.cudaFree(x);
}

console.log(['conv2d (same, stride 1)'.padEnd(34), ...variants.conv.map((name, i) => `${i + 1} ${name}`.padStart(18))].join(''));
for (const { xShape, filterShape } of convs) {
  const [n, h, w, c] = xShape;
  const [fh, fw, , oc] = filterShape;
  const geometry = [1, 1, 1, 1, (fh - 1) >> 1, (fw - 1) >> 1, h, w];
  const x = Float32Array.from({ length: n * h * w * c }, random);
  const f = Float32Array.from({ length: fh * fw * c * oc }, random);
  const dx = upload(x), df = upload(f), dy = native.cudaAlloc(device, 'float32', n * h * w * oc);
  let ref;
  if (check) {
    ref = new Float32Array(n * h * w * oc);
    native.conv2d(x, xShape, f, filterShape, ref, geometry, null, null, 'linear', null, null, 0);
  }
  const row = [`${xShape.join('x')} * ${filterShape.join('x')}`.padEnd(34)];
  for (let v = 1; v <= variants.conv.length; v++) {
    const gflops = time(() => native.cudaConvLab(v, xShape, filterShape, geometry, dx, df, dy), 2 * n * h * w * oc * fh * fw * c);
    const status = ref && !(maxError(download(dy, ref.length), ref) <= 1e-5 * Math.sqrt(fh * fw * c)) ? ' WRONG' : '';
    row.push(`${gflops.toFixed(0)}${status}`.padStart(18));
  }
  console.log(row.join(''));
  for (const b of [dx, df, dy]) native.cudaFree(b);
}
