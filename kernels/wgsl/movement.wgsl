// Affine gather, the one data-movement kernel behind Slice, StridedSlice, Reverse and the
// generic Transpose: out[i] = src[base + sum_d coord_d(i) * stride_d], where coord_d(i) are
// the output coordinates of i (row-major, outermost first) and strides may be negative
// (reversed dims). Elements are copied as raw 32-bit words, so one shader serves float32,
// int32 and bool; with W = vec4<u32> every invocation moves four consecutive words
// (the JS side has divided extents, strides and base by four for that).
// RANK: number of dims after merging (1..8).
// Parameters: size (in W units), base (i32), then per dim outermost first: extent, stride (i32).
@group(0) @binding(0) var<storage, read> src: array<{{W}}>;
@group(0) @binding(1) var<storage, read_write> dst: array<{{W}}>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  var rest = i;
  var offset = mi(1u);
  // Innermost dim first: its coordinate is the remainder of the running quotient.
  for (var k = {{RANK}}u; k > 0u; k = k - 1u) {
    let d = k - 1u;
    let extent = m(2u + 2u * d);
    offset = offset + i32(rest % extent) * mi(3u + 2u * d);
    rest = rest / extent;
  }
  dst[i] = src[u32(offset)];
}
