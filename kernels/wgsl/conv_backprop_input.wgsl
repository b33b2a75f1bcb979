// Loaders of matmul.wgsl for Conv2DBackpropInput as implicit GEMMs (NHWC), one per stride
// phase. dx[b, ih, iw, ci] = sum of dy[b, oh, ow, co] * filter[kh, kw, ci, co] over the taps
// where oh * strideH = ih + padTop - kh (likewise along w) lands on an output pixel: only taps
// kh = (ih + padTop) mod strideH + strideH * a take part. So the pixels of dx are split by
// phase (rh, rw) = ((ih + padTop) mod strideH, (iw + padLeft) mod strideW), and each phase
// is one GEMM over its own pixels and taps only: no multiply by the zeros a strided
// transposed convolution would otherwise insert (a stride of 2 would waste 3 in 4).
// Within phase (rh, rw): m = (b * rowsH + i) * rowsW + j for the pixel ih = ih0 + i * strideH,
// iw = iw0 + j * strideW; k = (a * tapsW + c) * outC + co for the tap kh = rh + a * strideH,
// kw = rw + c * strideW, at oh = baseH + i - a, ow = baseW + j - c; n = ci.
// A(m, k) = dy[b, oh, ow, co] (0 off the output); B(k, n) = filter[kh, kw, n, co].
// Parameters: 8 inH, 9 inW, 10 inC, 11 outH, 12 outW, 13 outC, 14 strideH, 15 strideW, 16 fw,
// 17 rh, 18 rw, 19 ih0, 20 iw0, 21 rowsH, 22 rowsW, 23 tapsW, 24 baseH, 25 baseW (i32).

struct ARow { base: u32, oh: i32, ow: i32, ok: bool }
fn rowA(b: u32, row: u32) -> ARow {
  let rowsW = m(22u);
  let perImage = m(21u) * rowsW;
  let image = row / perImage;
  let p = row % perImage;
  return ARow(image * m(11u) * m(12u) * m(13u), mi(24u) + i32(p / rowsW), mi(25u) + i32(p % rowsW), row < m(0u));
}
struct AK { a: i32, c: i32, co: u32, ok: bool }
fn kA(k: u32) -> AK {
  let outC = m(13u);
  let perA = m(23u) * outC;
  let r = k % perA;
  return AK(i32(k / perA), i32(r / outC), r % outC, k < m(2u));
}
fn loadA(r: ARow, q: AK) -> f32 {
  let oh = r.oh - q.a;
  let ow = r.ow - q.c;
  if (!(r.ok && q.ok) || oh < 0 || ow < 0 || oh >= mi(11u) || ow >= mi(12u)) { return 0.0; }
  return lhs[r.base + (u32(oh) * m(12u) + u32(ow)) * m(13u) + q.co];
}

struct BCol { off: u32, ok: bool }
fn colB(b: u32, col: u32) -> BCol { return BCol(col * m(13u), col < m(1u)); }
struct BK { off: u32, ok: bool }
fn kB(k: u32) -> BK {
  let outC = m(13u);
  let perA = m(23u) * outC;
  let r = k % perA;
  let kh = m(17u) + (k / perA) * m(14u);
  let kw = m(18u) + (r / outC) * m(15u);
  return BK(((kh * m(16u) + kw) * m(10u)) * outC + r % outC, k < m(2u));
}
fn loadB(c: BCol, q: BK) -> f32 {
  if (!(c.ok && q.ok)) { return 0.0; }
  return rhs[c.off + q.off];
}

// The pixel of dx that row m of this phase computes.
fn outRow(b: u32, row: u32) -> u32 {
  let rowsW = m(22u);
  let perImage = m(21u) * rowsW;
  let image = row / perImage;
  let p = row % perImage;
  let ih = m(19u) + (p / rowsW) * m(14u);
  let iw = m(20u) + (p % rowsW) * m(15u);
  return (image * m(8u) + ih) * m(9u) + iw;
}
