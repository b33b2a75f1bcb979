// AddN: the elementwise sum of N inputs of one shape, four elements per invocation
// through vec4 loads and stores (storage buffers are padded to whole vec4s, so the last vec4
// stays inside every buffer). Added left to right from zero, as tfjs-backend-cpu's loop adds
// (int32 wraps at every step as its Int32Array does; wrapping addition is associative
// anyway). INPUTS: the input bindings x0, x1, ...; SUM: their sum.
// Parameters: the number of vec4s.
{{INPUTS}}
@group(0) @binding({{N}}) var<storage, read_write> out: array<vec4<{{T}}>>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  out[i] = {{SUM}};
}
