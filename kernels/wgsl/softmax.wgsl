// Softmax over the last axis, tfjs's numerically stable form: exp(x - max) / sum(exp(x - max)).
//
// Each workgroup of 256 invocations serves 256 / T rows at a time with T lanes each (T a
// power of two from 2 to 256 picked by the host from the row length: one row per workgroup
// for long rows, several for shorter ones; rows of a few elements use softmax_serial.wgsl).
// The lanes walk their row in strides of T three times: for the max, for the sum of
// exponentials (both folded by a log-step tree in workgroup memory), and to write the
// result. Recomputing exp in the last walk costs less than storing it. The grid is capped;
// workgroups take row groups in a grid-strided loop.
//
// NaN: a NaN in the row makes the max NaN and so the whole row NaN, as in tfjs-backend-cpu;
// it is carried explicitly, since WGSL leaves max/min/exp of NaN to the implementation.
// Infinities follow IEEE arithmetic (a row with +Inf gets NaN from Inf - Inf, as on the CPU).
//
// Parameters: 0 rows, 1 row length N, 2 log2(T), 3 row groups.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
{{META}}

var<workgroup> wgVal: array<f32, 256>;

fn maxNan(a: f32, b: f32) -> f32 {
  if (isNan(a) || isNan(b)) { return nan(); }
  return max(a, b);
}

// exp(d) with NaN kept: d is NaN when the row max is NaN, or for Inf - Inf.
fn expNan(d: f32) -> f32 {
  if (isNan(d)) { return nan(); }
  return exp(d);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let rows = m(0u);
  let n = m(1u);
  let log2T = m(2u);
  let lanes = 1u << log2T;
  let g = lid >> log2T;
  let lane = lid & (lanes - 1u);
  let head = g * lanes;
  // Workgroup-uniform loop bounds, as the barriers inside need.
  for (var rowGroup = wid.y * nwg.x + wid.x; rowGroup < m(3u); rowGroup = rowGroup + nwg.x * nwg.y) {
    let row = rowGroup * (256u >> log2T) + g;
    let inRange = row < rows;
    let base = row * n;

    // 1. The row max.
    var mx = -inf();
    if (inRange) {
      for (var j = lane; j < n; j = j + lanes) {
        mx = maxNan(mx, x[base + j]);
      }
    }
    wgVal[lid] = mx;
    workgroupBarrier();
    var s = lanes >> 1u;
    loop {
      if (s == 0u) { break; }
      if (lane < s) {
        wgVal[lid] = maxNan(wgVal[lid], wgVal[lid + s]);
      }
      workgroupBarrier();
      s = s >> 1u;
    }
    mx = wgVal[head];
    // Every lane has read the max before the sums overwrite it.
    workgroupBarrier();

    // 2. The sum of exp(x - max).
    var sum = 0.0;
    if (inRange) {
      for (var j = lane; j < n; j = j + lanes) {
        sum = sum + expNan(x[base + j] - mx);
      }
    }
    wgVal[lid] = sum;
    workgroupBarrier();
    s = lanes >> 1u;
    loop {
      if (s == 0u) { break; }
      if (lane < s) {
        wgVal[lid] = wgVal[lid] + wgVal[lid + s];
      }
      workgroupBarrier();
      s = s >> 1u;
    }
    sum = wgVal[head];
    // Every lane has read the sum before the next row group's maxima overwrite it.
    workgroupBarrier();

    // 3. The result.
    if (inRange) {
      let rowNan = isNan(sum);
      for (var j = lane; j < n; j = j + lanes) {
        let e = expNan(x[base + j] - mx);
        out[base + j] = select(e / sum, nan(), rowNan);
      }
    }
  }
}
