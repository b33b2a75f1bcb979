// One pass of a reduction over the middle axis of x viewed as [outer, R, inner]: output o
// (o = outerIdx * inner + innerIdx) combines x[outerIdx, j, innerIdx] for j in [0, R).
//
// Each workgroup of 256 invocations serves G consecutive outputs with T lanes each
// (G * T = 256, T a power of two picked by the host from R): a lane folds its strided share
// of the row into a private accumulator, then a log-step tree in workgroup memory folds the
// T lanes. Lanes are the fastest-varying index when the row is contiguous (inner == 1), so
// neighbouring invocations read neighbouring elements of one row; otherwise the outputs
// are, so that they read neighbouring columns.
//
// A long row with few outputs is split into `chunks` pieces of `chunkLen` elements handled
// by different workgroups; each writes a partial at o * chunks + chunk, and the host
// reduces the partials, [outputs, chunks], in another pass of this template.
//
// Placeholders: IN_T / OUT_T, the storage element types; ACC, the declaration of the
// accumulator type Acc; IDENTITY, Acc's neutral element; LOAD, the body of load(i, j) -> Acc
// (element i of x, at position j of its row); COMBINE, the body of combine(a, b) -> Acc;
// STORE, the body of store(k, a), which writes out[k].
//
// The grid is capped (a few thousand workgroups are enough to fill a GPU): each workgroup
// takes tiles (G outputs x one chunk of their rows) in a grid-strided loop. This also keeps
// software rasterizers, which pay a set-up per workgroup of a shader with barriers, fast.
// Rows short enough for one invocation each use reduce_serial.wgsl instead, without
// workgroup memory or barriers.
//
// Parameters: 0 outputs, 1 R, 2 inner, 3 chunks, 4 chunkLen, 5 log2(T), 6 tiles, 7 1 when
// lanes vary fastest, 8 (f32) a divisor for Mean.
@group(0) @binding(0) var<storage, read> x: array<{{IN_T}}>;
@group(0) @binding(1) var<storage, read_write> out: array<{{OUT_T}}>;
{{META}}

{{ACC}}

var<workgroup> wgAcc: array<Acc, 256>;

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
  let log2T = m(5u);
  let lanes = 1u << log2T;
  let perGroup = 256u >> log2T;
  var g: u32;
  var lane: u32;
  if (m(7u) == 1u) {
    g = lid >> log2T;
    lane = lid & (lanes - 1u);
  } else {
    g = lid & (perGroup - 1u);
    lane = lid / perGroup;
  }
  let slot = g * lanes + lane;
  let stride = lanes * inner;
  // Tiles (a group of outputs x a chunk of their rows), strided over a capped grid: the
  // loop bounds are workgroup-uniform, as the barriers inside need.
  for (var tile = wid.y * nwg.x + wid.x; tile < m(6u); tile = tile + nwg.x * nwg.y) {
    let chunk = tile % chunks;
    let o = (tile / chunks) * perGroup + g;
    var acc = identity();
    if (o < outputs) {
      let base = (o / inner) * rowLen * inner + o % inner;
      let start = chunk * chunkLen;
      let end = min(rowLen, start + chunkLen);
      var i = base + (start + lane) * inner;
      for (var j = start + lane; j < end; j = j + lanes) {
        acc = combine(acc, load(i, j));
        i = i + stride;
      }
    }
    wgAcc[slot] = acc;
    workgroupBarrier();
    // The tree: T lanes -> 1, halving each step. Each slot is written only by its own
    // invocation, and every step ends at a barrier, so the next tile needs none first.
    var s = lanes >> 1u;
    loop {
      if (s == 0u) { break; }
      if (lane < s) {
        wgAcc[slot] = combine(wgAcc[slot], wgAcc[slot + s]);
      }
      workgroupBarrier();
      s = s >> 1u;
    }
    if (lane == 0u && o < outputs) {
      store(o * chunks + chunk, wgAcc[slot]);
    }
  }
}
