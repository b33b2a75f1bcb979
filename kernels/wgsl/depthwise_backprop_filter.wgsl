// DepthwiseConv2dNativeBackpropFilter (NHWC): one workgroup per filter element
// dW[kh, kw, ci, q] (flattened as [fh, fw, outC], c = ci * multiplier + q), summing
// x[b, oh * strideH + kh - padTop, ow * strideW + kw - padLeft, ci] * dy[b, oh, ow, c] over the
// batch and the output pixels whose tap (kh, kw) falls inside the input (padding taps are
// skipped, as tfjs-backend-cpu skips them). The filter is small and the pixels many, so the
// 256 invocations of a workgroup split the pixels between them and add their partial sums
// in workgroup memory: one invocation per filter element would leave most of the GPU idle.
// Dilation 1 only (as tfjs-backend-cpu computes it).
// Parameters: 0 filter elements, 1 batch, 2 inH, 3 inW, 4 inC, 5 outH, 6 outW, 7 strideH,
// 8 strideW, 9 padTop (i32), 10 padLeft (i32), 11 fw, 12 multiplier.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
{{META}}

var<workgroup> partial: array<f32, 256>;

fn firstAtLeast(a: i32, s: i32) -> i32 {
  if (a <= 0) { return 0; }
  return (a + s - 1) / s;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // The filter element of this workgroup (uniform across it: the barriers below need that).
  let f = wid.y * nwg.x + wid.x;
  if (f >= m(0u)) { return; }
  let inH = mi(2u);
  let inW = mi(3u);
  let inC = m(4u);
  let outH = mi(5u);
  let outW = mi(6u);
  let sh = mi(7u);
  let sw = mi(8u);
  let fw = m(11u);
  let mult = m(12u);
  let outC = inC * mult;
  let c = f % outC;
  let tap = f / outC;
  let kh = i32(tap / fw);
  let kw = i32(tap % fw);
  let ci = c / mult;
  // The output rows and columns whose tap (kh, kw) reads inside the input.
  let rh = mi(9u) - kh;
  let rw = mi(10u) - kw;
  let ohBegin = firstAtLeast(rh, sh);
  let owBegin = firstAtLeast(rw, sw);
  let ohEnd = max(ohBegin, min(outH, firstAtLeast(inH + rh, sh)));
  let owEnd = max(owBegin, min(outW, firstAtLeast(inW + rw, sw)));
  let rows = u32(ohEnd - ohBegin);
  let cols = u32(owEnd - owBegin);
  let perImage = rows * cols;
  let total = m(1u) * perImage;
  var sum = 0.0;
  for (var j = lid; j < total; j = j + 256u) {
    let b = j / perImage;
    let r = j % perImage;
    let oh = ohBegin + i32(r / cols);
    let ow = owBegin + i32(r % cols);
    let ih = oh * sh - rh;
    let iw = ow * sw - rw;
    let xi = ((b * u32(inH) + u32(ih)) * u32(inW) + u32(iw)) * inC + ci;
    let yi = ((b * u32(outH) + u32(oh)) * u32(outW) + u32(ow)) * outC + c;
    sum = sum + x[xi] * dy[yi];
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) { partial[lid] = partial[lid] + partial[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { dw[f] = partial[0]; }
}
