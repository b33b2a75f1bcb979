// FusedBatchNorm: out = offset + (x - mean) * scale / sqrt(variance + epsilon), each
// parameter indexed by the element's flat index modulo its own length, as
// tfjs-backend-cpu's BatchNorm does (so 1-D parameters apply along the last axis). With
// V = vec4<f32> every invocation does four consecutive elements (every parameter's
// length is then a multiple of four, so its four values are one vec4 too).
// BINDINGS declares x, mean, variance and the optional offset and scale; OFFSET and
// SCALE read them (or are the defaults 0 and 1).
// Parameters: size, then the lengths of mean, variance, offset, scale (in V units), epsilon.
{{BINDINGS}}
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let centered = x[i] - mean[i % m(1u)];
  out[i] = {{OFFSET}} + centered * {{SCALE}} / sqrt(variance[i % m(2u)] + {{V}}(mf(5u)));
}
