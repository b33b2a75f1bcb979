// Specs of tfjs-core's suite not run against a backend, each as
// { spec: 'text in the spec's full name', backends: ['tessera-cpu', ...], reason: '...' }.
// The target is none, and there is none: tessera-cpu runs every spec tfjs-backend-cpu runs.
// (tfjs-backend-cpu's own runner filters 'computation in worker', a spec of its own suite,
// not of tfjs-core's, so nothing here corresponds to it.)
export const EXCLUSIONS = [];
