// Loaders of matmul.wgsl for Conv2DBackpropInput as an implicit GEMM (NHWC): dx[m, n] with
// m = (b * inH + ih) * inW + iw, n = the input channel ci, k = (kh * fw + kw) * outC + co:
// dx[b, ih, iw, ci] = sum of dy[b, oh, ow, co] * filter[kh, kw, ci, co] over the taps where
// oh * strideH = ih + padTop - kh (and likewise along w) lands on an output pixel.
// A(m, k) is dy at that pixel, 0 where there is none; B(k, n) = filter[kh, kw, n, co].
// Parameters: 8 inH, 9 inW, 10 inC, 11 outH, 12 outW, 13 outC, 14 strideH, 15 strideW,
// 16 padTop, 17 padLeft (i32), 18 fw.

struct ARow { base: u32, ih: i32, iw: i32, ok: bool }
fn rowA(b: u32, row: u32) -> ARow {
  let inW = m(9u);
  let pixels = m(8u) * inW;
  let image = row / pixels;
  let p = row % pixels;
  return ARow(image * m(11u) * m(12u) * m(13u), i32(p / inW) + mi(16u), i32(p % inW) + mi(17u), row < m(0u));
}
struct AK { kh: i32, kw: i32, co: u32, ok: bool }
fn kA(k: u32) -> AK {
  let outC = m(13u);
  let perRow = m(18u) * outC;
  let r = k % perRow;
  return AK(i32(k / perRow), i32(r / outC), r % outC, k < m(2u));
}
fn loadA(r: ARow, q: AK) -> f32 {
  let th = r.ih - q.kh;
  let tw = r.iw - q.kw;
  if (!(r.ok && q.ok) || th < 0 || tw < 0) { return 0.0; }
  let sh = m(14u);
  let sw = m(15u);
  let oh = u32(th) / sh;
  let ow = u32(tw) / sw;
  if (oh * sh != u32(th) || ow * sw != u32(tw) || oh >= m(11u) || ow >= m(12u)) { return 0.0; }
  return lhs[r.base + (oh * m(12u) + ow) * m(13u) + q.co];
}

struct BCol { off: u32, ok: bool }
fn colB(b: u32, col: u32) -> BCol { return BCol(col * m(13u), col < m(1u)); }
struct BK { off: u32, ok: bool }
fn kB(k: u32) -> BK {
  let outC = m(13u);
  return BK((k / outC) * m(10u) * outC + k % outC, k < m(2u));
}
fn loadB(c: BCol, q: BK) -> f32 {
  if (!(c.ok && q.ok)) { return 0.0; }
  return rhs[c.off + q.off];
}
