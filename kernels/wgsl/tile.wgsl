// Tile: out[coord] = x[coord % x.shape], per dim. Words are copied as u32 (any dtype).
// RANK: dims after merging (the JS side folds each dim that is not repeated into the
// one outside it). Parameters: size, then per dim outermost first: the output's extent,
// x's extent and x's stride.
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  var rest = i;
  var offset = 0u;
  for (var k = {{RANK}}u; k > 0u; k = k - 1u) {
    let d = k - 1u;
    let extent = m(1u + 3u * d);
    offset = offset + ((rest % extent) % m(2u + 3u * d)) * m(3u + 3u * d);
    rest = rest / extent;
  }
  dst[i] = src[offset];
}
