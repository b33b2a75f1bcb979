// Peers outside tfjs, each optional: OpenBLAS and the bandwidth probe through the bench-only
// addon in bench/native, and onnxruntime-node. A peer that cannot load is left out of the run
// with the reason printed.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const HELPER = join(here, 'native', 'build', 'Release', 'bench_peers.node');

/**
 * The bench addon: OpenBLAS sgemm plus the bandwidth probe, both set to `threads`.
 * OpenBLAS picks its kernels when the library loads, from the CPU it detects, or from
 * OPENBLAS_CORETYPE when that is set. A machine-wide OPENBLAS_CORETYPE (this workplace sets
 * Haswell, the AVX2 kernels) would handicap the peer, so an inherited one is dropped and
 * OpenBLAS detects the CPU itself (Cooperlake, its AVX-512 kernels, on the Zen 5 EPYC), unless
 * `core` names the kernels to use.
 * Returns { addon, blas, dropped } or { reason }.
 */
export function loadNativePeers(threads, core) {
  if (!existsSync(HELPER)) {
    return { reason: `${relative(process.cwd(), HELPER)} is not built (npm run bench:setup installs OpenBLAS and builds it)` };
  }
  // libgomp's threads spin for up to 300000 rounds (milliseconds here) before they sleep;
  // with another process on one of the cores, a thread spinning at the join keeps its sibling
  // off the CPU and the probe collapses to a few GB/s. A shorter spin still covers the gap
  // between back-to-back calls. Read when libgomp loads, like OPENBLAS_CORETYPE.
  process.env.GOMP_SPINCOUNT ??= '10000';
  const dropped = core ? undefined : process.env.OPENBLAS_CORETYPE;
  if (core) process.env.OPENBLAS_CORETYPE = core;
  else delete process.env.OPENBLAS_CORETYPE;
  try {
    const addon = require(HELPER);
    addon.setBlasThreads(threads);
    addon.setProbeThreads(threads);
    return { addon, blas: addon.blasInfo(), dropped };
  } catch (e) {
    return { reason: `${relative(process.cwd(), HELPER)} does not load: ${e.message}` };
  }
}

/** onnxruntime-node, and protobufjs to encode its models (bench/onnx.mjs); or { reason }. */
export async function loadOnnxRuntime() {
  try {
    await import('protobufjs');
    const ort = (await import('onnxruntime-node')).default;
    return { ort, version: ort.env.versions.node };
  } catch (e) {
    return { reason: `${e.message.split('\n')[0]} (npm install adds the devDependencies onnxruntime-node and protobufjs)` };
  }
}
