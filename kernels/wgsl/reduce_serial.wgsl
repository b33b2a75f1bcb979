// One pass of a reduction over the middle axis of x viewed as [outer, R, inner], one
// invocation per output (o = outerIdx * inner + innerIdx), folding x[outerIdx, j, innerIdx]
// for j in its chunk of [0, R) in order. For short rows, and for columns (inner > 1) when
// there are outputs enough to fill the GPU: neighbouring invocations then read neighbouring
// columns. No workgroup memory and no barriers. The op placeholders and the parameters are
// those of reduce.wgsl (lanes is always 1 here).
@group(0) @binding(0) var<storage, read> x: array<{{IN_T}}>;
@group(0) @binding(1) var<storage, read_write> out: array<{{OUT_T}}>;
{{META}}

{{ACC}}

fn identity() -> Acc {
  return {{IDENTITY}};
}

fn load(i: u32, j: u32) -> Acc {
  {{LOAD}}
}

fn combine(a: Acc, b: Acc) -> Acc {
  {{COMBINE}}
}

fn store(k: u32, a: Acc) {
  {{STORE}}
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let outputs = m(0u);
  let rowLen = m(1u);
  let inner = m(2u);
  let chunks = m(3u);
  let chunkLen = m(4u);
  for (var tile = wid.y * nwg.x + wid.x; tile < m(6u); tile = tile + nwg.x * nwg.y) {
    let chunk = tile % chunks;
    let o = (tile / chunks) * 256u + lid;
    if (o < outputs) {
      let start = chunk * chunkLen;
      let end = min(rowLen, start + chunkLen);
      var i = (o / inner) * rowLen * inner + o % inner + start * inner;
      var acc = identity();
      for (var j = start; j < end; j = j + 1u) {
        acc = combine(acc, load(i, j));
        i = i + inner;
      }
      store(o * chunks + chunk, acc);
    }
  }
}
