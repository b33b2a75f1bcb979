// ResizeBilinear / ResizeNearestNeighbor over NHWC images: one invocation per output
// element. Where each output row and column reads from was computed on the JS side in
// double precision, exactly as tfjs-backend-cpu computes it (floor/ceil/round of the source
// coordinate decide which pixels are read, and f32 rounding here could flip them at exact
// boundaries); `table` holds, per output row then per output column:
//   bilinear: the lower source index, the upper one, the fraction (f32 bits);
//   nearest:  the source index.
// LOAD turns an image word into the value to interpolate or copy; BODY writes out[i].
// Parameters: size, channels, inHeight, inWidth, outHeight, outWidth.
@group(0) @binding(0) var<storage, read> images: array<{{IN_T}}>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<{{OUT_T}}>;
{{META}}

fn load(b: u32, r: u32, c: u32, d: u32) -> {{VALUE_T}} {
  let v = images[((b * m(2u) + r) * m(3u) + c) * m(1u) + d];
  return {{LOAD}};
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let channels = m(1u);
  let outH = m(4u);
  let outW = m(5u);
  let d = i % channels;
  var t = i / channels;
  let c = t % outW;
  t = t / outW;
  let r = t % outH;
  let b = t / outH;
  {{BODY}}
}
