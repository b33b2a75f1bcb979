// Runs inside the bundle, before tfjs-core's test files: registers what the official
// backends' runners register, then points the suite at the backend under test.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { setTestEnvs, setupTestFilters } from '@tensorflow/tfjs-core/dist/jasmine_util';
import '../../src/index.ts';
import { EXCLUSIONS } from './filters.mjs';

const backendName = process.env.TESSERA_CONFORMANCE_BACKEND || 'tessera-cpu';

// tfjs reports a backend that fails to initialize with console.warn and carries on with the
// next best one; the runner turns that into a failure (see run.mjs).
globalThis.__tesseraInitFailures = [];
const warn = console.warn.bind(console);
let initFailed = false;
console.warn = (...args) => {
  const text = args.map(String).join(' ');
  if (text.includes(`Initialization of backend ${backendName} failed`)) initFailed = true;
  else if (initFailed) {
    globalThis.__tesseraInitFailures.push(text.split('\n')[0]);
    initFailed = false;
  }
  warn(...args);
};
setTestEnvs([{ name: backendName, backendName, isDataSync: true }]);

// jasmine_util sets a 20 s default timeout on its own copy of jasmine-core; the runner's
// copy is the one that counts.
jasmine.DEFAULT_TIMEOUT_INTERVAL = 20000;

const excluded = EXCLUSIONS.filter((e) => e.backends.includes(backendName));
setupTestFilters([], (name) => !excluded.some((e) => name.includes(e.spec)));
