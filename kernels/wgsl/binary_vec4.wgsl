// Elementwise binary op on inputs of one layout (or one of them a scalar), four elements per
// invocation through vec4 loads and stores. Storage buffers are allocated in whole 16-byte
// vec4s (storageBytes in src/device/webgpu.ts), so the last vec4 stays inside every buffer
// whatever the size: its lanes past the end read and write only that padding, and no
// scalar tail pass is needed.
// A_ELEM/B_ELEM: vec4<T>, or T for a scalar operand; A_LOAD/B_LOAD
// read one vec4 of each. Parameters: the number of vec4s.
@group(0) @binding(0) var<storage, read> a: array<{{A_ELEM}}>;
@group(0) @binding(1) var<storage, read> b: array<{{B_ELEM}}>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<{{OUT_T}}>>;
{{META}}
{{MATH}}

fn op(x: {{T}}, y: {{T}}) -> {{OUT_T}} {
  {{OP}}
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let x = {{A_LOAD}};
  let y = {{B_LOAD}};
  out[i] = vec4<{{OUT_T}}>(op(x.x, y.x), op(x.y, y.y), op(x.z, y.z), op(x.w, y.w));
}
