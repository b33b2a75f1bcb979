// The direct kernel API: one function per kernel over DeviceArrays, no tfjs engine between.
export * from './array.js';
export * from './binary.js';
export * from './conv.js';
export * from './pool.js';
export * from './layout.js';
export * from './unary.js';
export * from './reduce.js';
export * from './matmul.js';
