// Softmax over the last axis for short rows: one invocation per row, which walks it three
// times (max, sum of exp(x - max), the result), without workgroup memory or barriers. The
// semantics and NaN handling are softmax.wgsl's; rows are taken in a grid-strided loop.
//
// Parameters: 0 rows, 1 row length N, 2 unused, 3 row groups (of 256 rows).
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
{{META}}

fn maxNan(a: f32, b: f32) -> f32 {
  if (isNan(a) || isNan(b)) { return nan(); }
  return max(a, b);
}

fn expNan(d: f32) -> f32 {
  if (isNan(d)) { return nan(); }
  return exp(d);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let rows = m(0u);
  let n = m(1u);
  for (var rowGroup = wid.y * nwg.x + wid.x; rowGroup < m(3u); rowGroup = rowGroup + nwg.x * nwg.y) {
    let row = rowGroup * 256u + lid;
    if (row >= rows) { continue; }
    let base = row * n;
    var mx = -inf();
    for (var j = 0u; j < n; j = j + 1u) {
      mx = maxNan(mx, x[base + j]);
    }
    var sum = 0.0;
    for (var j = 0u; j < n; j = j + 1u) {
      sum = sum + expNan(x[base + j] - mx);
    }
    let rowNan = isNan(sum);
    for (var j = 0u; j < n; j = j + 1u) {
      out[base + j] = select(expNan(x[base + j] - mx) / sum, nan(), rowNan);
    }
  }
}
