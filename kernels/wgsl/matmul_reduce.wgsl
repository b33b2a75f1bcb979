// Second pass of a split-K GEMM (matmul.wgsl): out[i] = finish(i, sum over z of part[z, i]).
// Parameters: 0 outputs, 1 splits; the epilogue's from word 32.
{{BINDINGS}}
{{META}}

{{EPILOGUE}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  let total = m(0u);
  if (i >= total) { return; }
  var sum = 0.0;
  for (var z = 0u; z < m(1u); z = z + 1u) {
    sum = sum + part[z * total + i];
  }
  out[i] = finish(i, sum);
}
