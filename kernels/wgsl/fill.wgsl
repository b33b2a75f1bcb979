// Fill, ZerosLike, OnesLike: every element set to one 32-bit word (the value's bits as the
// output dtype holds it), four per invocation. Storage buffers are allocated in whole
// 16-byte vec4s, so the last vec4 stays inside the buffer; its lanes past the end write
// only padding. Parameters: the number of vec4s, the word.
@group(0) @binding(0) var<storage, read_write> out: array<vec4<u32>>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  out[i] = vec4<u32>(m(1u));
}
