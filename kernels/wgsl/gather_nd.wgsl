// GatherNd: row r of indices ([rows, DEPTH], int32) addresses slice
// sum_j indices[r, j] * stride_j of x (strides in slices, as tfjs's prepareAndValidate gives
// them); out[r, s] = x[that slice * sliceSize + s]. The JS side has checked every row's
// offset as tfjs-backend-cpu does; one outside would give zeros. Words copied as raw bits.
// Parameters: size, sliceSize, slices in x, then the DEPTH strides.
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let slice = m(1u);
  let s = i % slice;
  let r = i / slice;
  var flat = 0i;
  for (var j = 0u; j < {{DEPTH}}u; j = j + 1u) {
    flat = flat + indices[r * {{DEPTH}}u + j] * mi(3u + j);
  }
  if (flat < 0 || u32(flat) >= m(2u)) {
    dst[i] = 0u;
    return;
  }
  dst[i] = src[u32(flat) * slice + s];
}
