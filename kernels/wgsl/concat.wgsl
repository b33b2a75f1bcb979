// Concat (and Pack) of up to COUNT inputs in one dispatch. Every input is seen as a
// matrix [outer, width_k] (the dims before the axis, and the rest); the output is
// [outer, total], input k occupying columns [offset_k, offset_k + width_k). One invocation
// per output element of this group of inputs; words are copied as u32 (any dtype).
// Parameters: size (outer * the group's columns), the group's columns, total, the group's
// first output column, then per input: its first column within the group, its width.
{{BINDINGS}}
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let cols = m(1u);
  let row = i / cols;
  let col = i % cols;
  var v = 0u;
  {{SELECT}}
  dst[row * m(2u) + m(3u) + col] = v;
}
