// DepthwiseConv2dNativeBackpropInput (NHWC), directly: one invocation per dx element
// dx[b, ih, iw, ci], summing dy[b, oh, ow, ci * multiplier + q] * filter[kh, kw, ci, q] over the
// output pixels whose window holds (ih, iw) and over the multipliers q. The tap of output row
// oh is kh = ih + padTop - oh * strideH, so oh runs over the rows that put kh in [0, fh):
// the same terms, in the same order (rows, columns, then multipliers), as tfjs-backend-cpu.
// Consecutive invocations take consecutive input channels, so their reads of dy and of the
// filter are contiguous. Dilation 1 only (as tfjs-backend-cpu computes it).
// Parameters: 0 dx elements, 1 inH, 2 inW, 3 inC, 4 outH, 5 outW, 6 strideH, 7 strideW,
// 8 padTop (i32), 9 padLeft (i32), 10 fh, 11 fw, 12 multiplier.
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
{{META}}

// The first output index o >= 0 with o * s >= a (a may be negative).
fn firstAtLeast(a: i32, s: i32) -> i32 {
  if (a <= 0) { return 0; }
  return (a + s - 1) / s;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let inC = m(3u);
  let inW = m(2u);
  let inH = m(1u);
  let ci = i % inC;
  let p = i / inC;
  let iw = i32(p % inW);
  let p2 = p / inW;
  let ih = i32(p2 % inH);
  let image = p2 / inH;
  let outH = mi(4u);
  let outW = mi(5u);
  let sh = mi(6u);
  let sw = mi(7u);
  let fh = mi(10u);
  let fw = mi(11u);
  let mult = m(12u);
  let outC = inC * mult;
  // Rows oh with 0 <= ih + padTop - oh * sh < fh, inside [0, outH).
  let rh = ih + mi(8u);
  let rw = iw + mi(9u);
  let ohBegin = firstAtLeast(rh - fh + 1, sh);
  let owBegin = firstAtLeast(rw - fw + 1, sw);
  var ohEnd = outH;
  if (rh < 0) { ohEnd = 0; } else { ohEnd = min(outH, rh / sh + 1); }
  var owEnd = outW;
  if (rw < 0) { owEnd = 0; } else { owEnd = min(outW, rw / sw + 1); }
  let dyImage = image * u32(outH) * u32(outW) * outC;
  var sum = 0.0;
  for (var oh = ohBegin; oh < ohEnd; oh = oh + 1) {
    let kh = u32(rh - oh * sh);
    for (var ow = owBegin; ow < owEnd; ow = ow + 1) {
      let kw = u32(rw - ow * sw);
      let dyBase = dyImage + (u32(oh) * u32(outW) + u32(ow)) * outC + ci * mult;
      let wBase = ((kh * u32(fw) + kw) * inC + ci) * mult;
      for (var q = 0u; q < mult; q = q + 1u) {
        sum = sum + dy[dyBase + q] * w[wBase + q];
      }
    }
  }
  dx[i] = sum;
}
