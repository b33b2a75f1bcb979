// Select with a rank-1 condition over the rows of a t of higher rank, as tfjs-backend-cpu
// reads it: every element of row r is condition[r] ? t[r] : e[r] (element r of t or e, not
// the element at the output's position; tfjs-core's where() broadcasts the inputs to one
// shape first, so only direct kernel calls get here). Four output elements per invocation
// through vec4 stores (the output is padded to whole vec4s, see select.wgsl); each lane
// looks up its own row, clamped to the last one so that padding lanes stay inside the inputs.
// Parameters: the number of vec4s, the row size, the number of rows.
@group(0) @binding(0) var<storage, read> cond: array<u32>;
@group(0) @binding(1) var<storage, read> t: array<{{T}}>;
@group(0) @binding(2) var<storage, read> e: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<{{T}}>>;
{{META}}

fn pick(element: u32) -> {{T}} {
  let row = min(element / m(1u), m(2u) - 1u);
  return select(e[row], t[row], cond[row] != 0u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let base = 4u * i;
  out[i] = vec4<{{T}}>(pick(base), pick(base + 1u), pick(base + 2u), pick(base + 3u));
}
