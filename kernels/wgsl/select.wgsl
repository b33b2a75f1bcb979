// Select: condition ? t : e, all of one shape, four elements per invocation through vec4
// loads and stores. Storage buffers are allocated in whole 16-byte vec4s, so the last vec4
// stays inside every buffer; its lanes past the end read and write only padding.
// Parameters: the number of vec4s.
@group(0) @binding(0) var<storage, read> cond: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> t: array<vec4<{{T}}>>;
@group(0) @binding(2) var<storage, read> e: array<vec4<{{T}}>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<{{T}}>>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  out[i] = select(e[i], t[i], cond[i] != vec4<u32>(0u));
}
