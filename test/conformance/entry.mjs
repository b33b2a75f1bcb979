// Bundle entry: setup first (ES module evaluation order is import order), then the suite.
import './setup.mjs';
import '@tensorflow/tfjs-core/dist/tests';
