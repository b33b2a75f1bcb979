// Loaders of matmul.wgsl for Conv2DBackpropFilter as an implicit GEMM (NHWC): dW[m, n] with
// m = (kh * fw + kw) * inC + ci, n = the output channel co, k = (b * outH + oh) * outW + ow:
// dW[kh, kw, ci, co] = sum over (b, oh, ow) of x[b, oh*sh - padTop + kh, ow*sw - padLeft + kw,
// ci] * dy[b, oh, ow, co]. A(m, k) is that element of x (0 in the padding), read in place
// (a transposed im2col); B is dy as a row-major [K, N] matrix.
// Parameters: 8 inH, 9 inW, 10 inC, 11 outH, 12 outW, 13 strideH, 14 strideW, 15 padTop,
// 16 padLeft (i32), 17 fw.

struct ARow { dh: i32, dw: i32, ci: u32, ok: bool }
fn rowA(b: u32, row: u32) -> ARow {
  let inC = m(10u);
  let perRow = m(17u) * inC;
  let r = row % perRow;
  return ARow(i32(row / perRow) - mi(15u), i32(r / inC) - mi(16u), r % inC, row < m(0u));
}
struct AK { base: u32, ih: i32, iw: i32, ok: bool }
fn kA(k: u32) -> AK {
  let outW = m(12u);
  let pixels = m(11u) * outW;
  let image = k / pixels;
  let p = k % pixels;
  return AK(image * m(8u) * m(9u) * m(10u), i32((p / outW) * m(13u)), i32((p % outW) * m(14u)), k < m(2u));
}
fn loadA(r: ARow, q: AK) -> f32 {
  let ih = q.ih + r.dh;
  let iw = q.iw + r.dw;
  if (!(r.ok && q.ok) || ih < 0 || iw < 0 || ih >= mi(8u) || iw >= mi(9u)) { return 0.0; }
  return lhs[q.base + (u32(ih) * m(9u) + u32(iw)) * m(10u) + r.ci];
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
