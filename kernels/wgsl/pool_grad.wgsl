// MaxPoolGrad / AvgPoolGrad over NHWC: one invocation per element of dx, which sums dy over
// the windows that contain it (a gather: no atomics, no second pass). The windows with
// output row yR cover input rows [yR * strideH - padTop, ... + filterH), so the ones over
// input row r are yR in [ceil((r + padTop - filterH + 1) / strideH), floor((r + padTop) / strideH)],
// clipped to the output; likewise for columns.
// ACC adds window k's share: for MaxPoolGrad, dy[k] only where the offset its argmax pass
// recorded (positions, binding 1: first maximum, row-major in the window, -1 for none, as
// tfjs-backend-cpu's maxPoolPositions) is this element's (wR, wC); for AvgPoolGrad, every
// dy[k], and RESULT scales by 1 / (filterH * filterW) (padding included, as tfjs does).
// Parameters: size, channels, inHeight, inWidth, outHeight, outWidth, filterHeight,
// filterWidth, strideHeight, strideWidth, padTop (i32), padLeft (i32), the multiplier (f32).
@group(0) @binding(0) var<storage, read> dy: array<f32>;
{{BINDINGS}}
{{META}}

fn floorDiv(a: i32, b: i32) -> i32 {
  let q = a / b;
  return select(q, q - 1, (a % b != 0) && (a < 0));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let channels = m(1u);
  let inW = m(3u);
  let inH = m(2u);
  let outH = i32(m(4u));
  let outW = i32(m(5u));
  let fH = i32(m(6u));
  let fW = i32(m(7u));
  let sH = i32(m(8u));
  let sW = i32(m(9u));
  let d = i % channels;
  var t = i / channels;
  let xC = i32(t % inW);
  t = t / inW;
  let xR = i32(t % inH);
  let b = t / inH;
  let rr = xR + mi(10u);
  let cc = xC + mi(11u);
  let yR0 = max(0, floorDiv(rr - fH, sH) + 1);
  let yR1 = min(outH - 1, floorDiv(rr, sH));
  let yC0 = max(0, floorDiv(cc - fW, sW) + 1);
  let yC1 = min(outW - 1, floorDiv(cc, sW));
  var sum = 0.0;
  for (var yR = yR0; yR <= yR1; yR = yR + 1) {
    let wR = rr - yR * sH;
    let rowBase = (b * u32(outH) + u32(yR)) * u32(outW);
    for (var yC = yC0; yC <= yC1; yC = yC + 1) {
      let k = (rowBase + u32(yC)) * channels + d;
      {{ACC}}
    }
  }
  dx[i] = {{RESULT}};
}
