// ResizeBilinearGrad / ResizeNearestNeighborGrad as a gather: one invocation per element of
// dx (shaped as the images), summing dy over the output rows and columns that read its
// pixel in the forward pass. The source position of an output row only grows with the row,
// so the rows reading input row r are one contiguous range; the JS side computed, in double
// precision as tfjs-backend-cpu does, per input row then per input column the range
// [first, end) (`ranges`), and per output row then per output column the forward's lower
// index, upper index and fraction (`weights`; f32 bits; nearest: the index, unused others).
// WEIGHT is an output row's (or column's) weight for this pixel: w(k, p, base) with k
// the output row/column, p the pixel's row/column, base the table's start.
// Parameters: size, channels, inHeight, inWidth, outHeight, outWidth.
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> ranges: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
{{META}}

fn w(k: u32, p: u32, base: u32) -> f32 {
  {{WEIGHT}}
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let channels = m(1u);
  let inH = m(2u);
  let inW = m(3u);
  let outH = m(4u);
  let outW = m(5u);
  let d = i % channels;
  var t = i / channels;
  let xc = t % inW;
  t = t / inW;
  let xr = t % inH;
  let b = t / inH;
  let colBase = 3u * outH;
  var sum = 0.0;
  for (var y = ranges[2u * xr]; y < ranges[2u * xr + 1u]; y = y + 1u) {
    let wy = w(y, xr, 0u);
    var row = 0.0;
    for (var x = ranges[2u * (inH + xc)]; x < ranges[2u * (inH + xc) + 1u]; x = x + 1u) {
      row = row + dy[((b * outH + y) * outW + x) * channels + d] * w(x, xc, colBase);
    }
    sum = sum + row * wy;
  }
  dx[i] = sum;
}
