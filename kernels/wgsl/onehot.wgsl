// OneHot: out[r, j] = indices[r] == j ? on : off, for j in [0, depth); an index outside
// gives a row of off, as in tfjs-backend-cpu. on and off arrive as the output dtype's bits.
// Parameters: size, depth, on, off.
@group(0) @binding(0) var<storage, read> indices: array<i32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let depth = m(1u);
  dst[i] = select(m(3u), m(2u), indices[i / depth] == i32(i % depth));
}
