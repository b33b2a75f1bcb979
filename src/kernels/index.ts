// The direct kernel API: one function per kernel over DeviceArrays, no tfjs engine between.
export * from './array.js';
export * from './binary.js';
export * from './matmul.js';
