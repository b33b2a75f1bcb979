// Specs of tfjs-core's suite not run against a backend, each with its reason. The target is
// none beyond what tfjs-backend-cpu's own runner excludes.
export const EXCLUSIONS = [
  {
    spec: 'computation in worker',
    backends: ['cpu', 'tessera-cpu'],
    reason:
      "tfjs-backend-cpu's own runner (run_tests.ts) excludes it too: it starts a web worker that " +
      'loads a tfjs bundle from a URL, which needs a browser.',
  },
];
