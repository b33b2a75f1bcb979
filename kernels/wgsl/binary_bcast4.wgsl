// Elementwise binary op with broadcasting, four elements per invocation, for outputs whose
// innermost dim is a multiple of 4 (a bias add over channels, a row scale...): the 4 elements
// of a vec4 share one row, so each input gives either 4 consecutive elements (its innermost
// dim is the output's: one aligned vec4 load) or one element repeated (it is broadcast along
// that dim). A_ELEM/B_ELEM: vec4<T> or T; A_LOAD/B_LOAD: read the vec4 from the element
// offsets ia/ib. Parameters: the number of vec4s, then for each of the RANK output dims
// (outermost first): its extent, a's stride and b's stride (0 along a broadcast dim).
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
  // The rank is a constant of the program, so this loop unrolls.
  var rest = 4u * i;
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
  let x = {{A_LOAD}};
  let y = {{B_LOAD}};
  out[i] = vec4<{{OUT_T}}>(op(x.x, y.x), op(x.y, y.y), op(x.z, y.z), op(x.w, y.w));
}
