// Elementwise unary op (also Cast), four elements per invocation through vec4 loads and
// stores. Storage buffers are allocated in whole 16-byte vec4s (storageBytes in
// src/device/webgpu.ts), so the last vec4 stays inside the buffers whatever the size: its
// lanes past the end read and write only that padding, and no scalar tail pass is needed.
// T: the input's type; OUT_T: the output's; OP: the body of op(x), which reads
// its attributes from the parameters (mf(1u), mi(1u), ...); MATH: unary_math.wgsl or
// nothing. Parameters: the number of vec4s, then the op's attributes.
@group(0) @binding(0) var<storage, read> xs: array<vec4<{{T}}>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<{{OUT_T}}>>;
{{META}}
{{MATH}}

fn op(x: {{T}}) -> {{OUT_T}} {
  {{OP}}
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let v = xs[i];
  out[i] = vec4<{{OUT_T}}>(op(v.x), op(v.y), op(v.z), op(v.w));
}
