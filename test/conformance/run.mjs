#!/usr/bin/env node
// Runs tfjs-core's own test suite (dist/tests.js, jasmine) against a backend, the way the
// official backends run it. tfjs-core's dist is ESM with extension-less imports, which Node
// cannot load, so the suite is bundled with esbuild first: one shared tfjs-core instance
// (resolved through the packages' "module" fields), the .node addon and jasmine-core left
// external so the runner's jasmine is the one the specs talk to.
//
// usage: node test/conformance/run.mjs [--backend tessera-cpu|tessera-webgpu|tessera-cuda|cpu] [--filter TEXT] [--expect N] [--compare cpu]
//   --expect N     fail unless at least N specs pass (default: 4225 for the tessera backends, the count
//                  tfjs-backend-cpu passes at 4.22.0 less its 2 "Switching cpu backends" specs)
//   --compare cpu  first run the suite on tfjs-backend-cpu (in a child process) and fail unless
//                  every spec it passes also passes here (the 2 that exist only for a backend
//                  named 'cpu' aside)
import { build } from 'esbuild';
import Jasmine from 'jasmine';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const backend = option('--backend', 'tessera-cpu');
const expected = Number(option('--expect', backend.startsWith('tessera-') ? '4225' : '0'));

// tessera-webgpu needs a WebGPU adapter (on a machine without a GPU: SwiftShader's Vulkan
// driver through VK_ICD_FILENAMES). Without one the run is skipped with the reason, unless
// TESSERA_REQUIRE lists webgpu (CI sets it), which makes it a failure.
if (backend === 'tessera-webgpu') {
  // tfjs-core's specs use tiny tensors: without this they would mostly test the CPU hand-off
  // (small CPU-resident inputs run on tessera-cpu) instead of the WGSL kernels.
  process.env.TESSERA_WEBGPU_CPU_HANDOFF = '0';
  // The device module alone: dist/index.js would register a second copy of the backends
  // and kernels in tfjs's global registry, beside the bundle's.
  const { WebGpuDevice } = await import('../../dist/device/webgpu.js');
  let adapter;
  try {
    const device = await WebGpuDevice.create();
    adapter = device.name;
    device.destroy();
  } catch (e) {
    const required = (process.env.TESSERA_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('webgpu');
    console.log(`${required ? 'FAIL' : 'skipping'}: tfjs-core suite on tessera-webgpu: ${e.message}`);
    process.exit(required ? 1 : 0);
  }
  console.log(`tessera-webgpu adapter: ${adapter}`);
}
// tessera-cuda needs a CUDA device (an NVIDIA GPU, its driver, an addon built with the CUDA
// toolkit). Without one the run is skipped with the reason, unless TESSERA_REQUIRE lists cuda.
if (backend === 'tessera-cuda') {
  const { cudaAvailability } = await import('../../dist/device/cuda.js');
  const availability = cudaAvailability();
  if (!availability.available) {
    const required = (process.env.TESSERA_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('cuda');
    console.log(`${required ? 'FAIL' : 'skipping'}: tfjs-core suite on tessera-cuda: ${availability.reason}`);
    process.exit(required ? 1 : 0);
  }
  console.log(`tessera-cuda devices: ${availability.devices.map((d) => `cuda:${d.index} ${d.name} (sm ${d.computeCapability})`).join(', ')}`);
}
const filter = option('--filter', '');
const compareWith = option('--compare', '');
process.env.TESSERA_CONFORMANCE_BACKEND = backend;

const outDir = join(here, '.bundle');
mkdirSync(outDir, { recursive: true });
const bundle = join(outDir, 'suite.mjs');
await build({
  entryPoints: [join(here, 'entry.mjs')],
  outfile: bundle,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  // webgpu finds dawn.node relative to its own files, so it stays a package import.
  external: ['*.node', 'jasmine-core', 'jasmine-core/*', 'webgpu'],
  banner: { js: "import { createRequire as __tesseraCreateRequire } from 'node:module'; const require = __tesseraCreateRequire(import.meta.url);" },
  // tfjs-core's package.json marks its test files side-effect free; they are not.
  ignoreAnnotations: true,
  logLevel: 'warning',
});

process.on('unhandledRejection', (e) => {
  throw e;
});

const counts = { passed: 0, failed: 0, excluded: 0, pending: 0 };
const failures = [];
const passedNames = [];
const runner = new Jasmine({ projectBaseDir: here });
runner.exitOnCompletion = false;
runner.loadConfig({ spec_files: [bundle], random: false });
if (filter) runner.env.configure({ specFilter: (spec) => spec.getFullName().includes(filter) });
runner.clearReporters();
const started = Date.now();
runner.addReporter({
  specDone(result) {
    if (result.status === 'passed') {
      counts.passed++;
      passedNames.push(result.fullName);
    } else if (result.status === 'failed') {
      counts.failed++;
      failures.push({ name: result.fullName, messages: result.failedExpectations.map((f) => f.message) });
      console.log(`FAIL ${result.fullName}\n  ${result.failedExpectations.map((f) => f.message).join('\n  ')}`);
    } else if (result.status === 'excluded') counts.excluded++;
    else counts.pending++;
    const done = counts.passed + counts.failed;
    if (done % 500 === 0 && done > 0) console.log(`... ${done} specs run`);
  },
  suiteDone(result) {
    if (result.status === 'failed') {
      counts.failed++;
      failures.push({ name: `suite: ${result.fullName}`, messages: result.failedExpectations.map((f) => f.message) });
      console.log(`FAIL (suite) ${result.fullName}\n  ${result.failedExpectations.map((f) => f.message).join('\n  ')}`);
    }
  },
});
await runner.execute();
const seconds = ((Date.now() - started) / 1000).toFixed(0);

writeFileSync(join(outDir, `results-${backend}.json`), JSON.stringify({ backend, counts, failures, passed: passedNames }, null, 1));
console.log(`tfjs-core 4.22.0 suite on ${backend}: ${counts.passed} passed, ${counts.failed} failed, ${counts.excluded} excluded by filters, ${counts.pending} pending, in ${seconds} s`);
let ok = counts.failed === 0 && counts.passed > 0;
// tfjs falls back to another backend, with only a warning, when the one under test does not
// initialize: every such spec would have run elsewhere.
const initFailures = globalThis.__tesseraInitFailures ?? [];
if (initFailures.length > 0) {
  console.log(`${backend} failed to initialize ${initFailures.length} times; the specs after it ran on another backend:\n  ${initFailures[0]}`);
  ok = false;
}
if (!filter && counts.passed < expected) {
  console.log(`expected at least ${expected} passing specs (tfjs-backend-cpu's count) but got ${counts.passed}`);
  ok = false;
}
if (compareWith) {
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--backend', compareWith, '--expect', '0'], { stdio: 'ignore' });
  const peer = JSON.parse(readFileSync(join(outDir, `results-${compareWith}.json`), 'utf8'));
  // Spec names carry the test env's name ("add cpu {} ..."): map the peer's onto ours.
  const ours = new Set(passedNames);
  const onlyForPeer = (name) => name.startsWith('Switching cpu backends');
  const missing = peer.passed.filter((name) => !onlyForPeer(name) && !ours.has(name.replaceAll(` ${compareWith} {`, ` ${backend} {`)));
  console.log(`compared with ${compareWith}: it passes ${peer.passed.length}; ${missing.length} of those do not pass on ${backend}`);
  for (const name of missing.slice(0, 20)) console.log(`  missing: ${name}`);
  if (missing.length > 0) ok = false;
}
console.log(`conformance: ${counts.passed} passed, ${counts.failed} failed`);
process.exitCode = ok ? 0 : 1;
