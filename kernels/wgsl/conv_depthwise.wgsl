// DepthwiseConv2dNative (NHWC), directly: one invocation per output element
// out[b, oh, ow, c], c = ci * multiplier + q, summing x[b, ih, iw, ci] * filter[kh, kw, ci, q]
// over the taps inside the input (padding taps are skipped, as tfjs-backend-cpu skips them).
// Consecutive invocations take consecutive channels: the reads of x and of the filter are
// contiguous across them. The fused epilogue (bias, activation) follows.
// Parameters: 0 outputs, 1 inH, 2 inW, 3 inC, 4 outH, 5 outW, 6 outC, 7 strideH, 8 strideW,
// 9 padTop, 10 padLeft (i32), 11 dilationH, 12 dilationW, 13 fh, 14 fw, 15 multiplier; the
// epilogue's from word 32.
{{BINDINGS}}
{{META}}

{{EPILOGUE}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let inH = mi(1u);
  let inW = mi(2u);
  let inC = m(3u);
  let outC = m(6u);
  let outW = m(5u);
  let c = i % outC;
  let p = i / outC;
  let ow = p % outW;
  let p2 = p / outW;
  let oh = p2 % m(4u);
  let image = p2 / m(4u);
  let ci = c / m(15u);
  let ih0 = i32(oh * m(7u)) - mi(9u);
  let iw0 = i32(ow * m(8u)) - mi(10u);
  let dh = mi(11u);
  let dw = mi(12u);
  let fh = m(13u);
  let fw = m(14u);
  let xImage = image * u32(inH) * u32(inW) * inC;
  var sum = 0.0;
  for (var kh = 0u; kh < fh; kh = kh + 1u) {
    let ih = ih0 + i32(kh) * dh;
    if (ih < 0 || ih >= inH) { continue; }
    for (var kw = 0u; kw < fw; kw = kw + 1u) {
      let iw = iw0 + i32(kw) * dw;
      if (iw < 0 || iw >= inW) { continue; }
      sum = sum + x[xImage + (u32(ih) * u32(inW) + u32(iw)) * inC + ci] * w[(kh * fw + kw) * outC + c];
    }
  }
  out[i] = finish(i, sum);
}
