// Elementwise binary op with broadcasting, one invocation per output element.
// {{T}}: the inputs' type; {{OUT_T}}: the output's; {{OP}}: the body of op(x, y).
// Parameters: size, then for each of 6 dims (outermost first, rank padded with 1s):
// the output's extent, a's stride and b's stride (0 along a broadcast dim).
@group(0) @binding(0) var<storage, read> a: array<{{T}}>;
@group(0) @binding(1) var<storage, read> b: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{OUT_T}}>;
{{META}}

fn op(x: {{T}}, y: {{T}}) -> {{OUT_T}} {
  {{OP}}
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  if ({{SAME_SHAPE}}) {
    out[i] = op(a[i], b[i]);
    return;
  }
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var k = 5i; k >= 0i; k = k - 1i) {
    let d = u32(k);
    let extent = m(1u + 3u * d);
    let coord = rest % extent;
    rest = rest / extent;
    ia = ia + coord * m(2u + 3u * d);
    ib = ib + coord * m(3u + 3u * d);
  }
  out[i] = op(a[ia], b[ib]);
}
