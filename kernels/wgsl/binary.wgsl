// Elementwise binary op with broadcasting, one invocation per output element.
// T: the inputs' type; OUT_T: the output's; OP: the body of op(x, y); MATH:
// the math helpers the body calls (unary_math.wgsl, binary_math.wgsl) or nothing.
// Parameters: the size, then for each of the RANK output dims (outermost first): its
// extent, a's stride and b's stride (0 along a dim the input is broadcast over).
// Inputs of one layout, or a scalar against a tensor, take binary_vec4.wgsl instead, and
// outputs whose innermost dim is a multiple of 4 binary_bcast4.wgsl.
@group(0) @binding(0) var<storage, read> a: array<{{T}}>;
@group(0) @binding(1) var<storage, read> b: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{OUT_T}}>;
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
  // The rank is a constant of the program, so this loop unrolls.
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = {{RANK}}u; d > 0u; d = d - 1u) {
    let k = d - 1u;
    let extent = m(1u + 3u * k);
    let coord = rest % extent;
    rest = rest / extent;
    ia = ia + coord * m(2u + 3u * k);
    ib = ib + coord * m(3u + 3u * k);
  }
  out[i] = op(a[ia], b[ib]);
}
