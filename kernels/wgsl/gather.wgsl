// GatherV2: x seen as [batch, outer, dim, slice], indices as [batch, n] (int32), the output
// as [batch, outer, n, slice]: out[b, o, k, s] = x[b, o, indices[b, k], s]. The JS side has
// checked every index against [0, dim) as tfjs-backend-cpu does; an index outside would
// give zeros (never a read outside x). With W = vec4<u32> each invocation moves four
// words of a slice (slice then counts vec4s). Words are copied as raw bits (any dtype).
// Parameters: size, slice, n, outer, dim.
@group(0) @binding(0) var<storage, read> src: array<{{W}}>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> dst: array<{{W}}>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let slice = m(1u);
  let n = m(2u);
  let outer = m(3u);
  let dim = m(4u);
  let s = i % slice;
  var t = i / slice;
  let k = t % n;
  t = t / n;
  let o = t % outer;
  let b = t / outer;
  let index = indices[b * n + k];
  if (index < 0 || u32(index) >= dim) {
    dst[i] = {{W}}();
    return;
  }
  dst[i] = src[((b * outer + o) * dim + u32(index)) * slice + s];
}
