// Loaders of matmul.wgsl for Conv2D as an implicit GEMM (NHWC): out[m, n] with
// m = (b * outH + oh) * outW + ow, n = the output channel, k = (kh * fw + kw) * inC + ci.
// A is im2col of x, addressed in place: A(m, k) = x[b, oh*sh - padTop + kh*dh,
// ow*sw - padLeft + kw*dw, ci], 0 in the padding. B is the filter [fh, fw, inC, outC], i.e.
// a row-major [K, N] matrix.
// Parameters: 8 inH, 9 inW, 10 inC, 11 outH, 12 outW, 13 strideH, 14 strideW, 15 padTop,
// 16 padLeft (i32), 17 dilationH, 18 dilationW, 19 fw.

// Row m of A: the output pixel's image and the input corner its window starts at.
struct ARow { base: u32, ih: i32, iw: i32, ok: bool }
fn rowA(b: u32, row: u32) -> ARow {
  let outW = m(12u);
  let pixels = m(11u) * outW;
  let image = row / pixels;
  let p = row % pixels;
  return ARow(image * m(8u) * m(9u) * m(10u), i32((p / outW) * m(13u)) - mi(15u), i32((p % outW) * m(14u)) - mi(16u), row < m(0u));
}
// Column k of A: the filter tap's offset from the corner and the input channel.
struct AK { dh: i32, dw: i32, ci: u32, ok: bool }
fn kA(k: u32) -> AK {
  let inC = m(10u);
  let perRow = m(19u) * inC;
  let r = k % perRow;
  return AK(i32((k / perRow) * m(17u)), i32((r / inC) * m(18u)), r % inC, k < m(2u));
}
fn loadA(r: ARow, q: AK) -> f32 {
  let ih = r.ih + q.dh;
  let iw = r.iw + q.dw;
  if (!(r.ok && q.ok) || ih < 0 || iw < 0 || ih >= mi(8u) || iw >= mi(9u)) { return 0.0; }
  return lhs[r.base + (u32(ih) * m(9u) + u32(iw)) * m(10u) + q.ci];
}

struct BCol { n: u32, ok: bool }
fn colB(b: u32, col: u32) -> BCol { return BCol(col, col < m(1u)); }
struct BK { off: u32, ok: bool }
fn kB(k: u32) -> BK { return BK(k * m(1u), k < m(2u)); }
fn loadB(c: BCol, q: BK) -> f32 {
  if (!(c.ok && q.ok)) { return 0.0; }
  return rhs[q.off + c.n];
}

fn outRow(b: u32, row: u32) -> u32 { return row; }
