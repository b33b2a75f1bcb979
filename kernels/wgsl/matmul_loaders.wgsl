// Loaders of matmul.wgsl for MatMul: row-major matrices, A [batchA, M, K] ([batchA, K, M]
// when transposed), B [batchB, K, N] ([batchB, N, K] when transposed). Output batch b reads
// matrix b % batchA of A and b % batchB of B, as tfjs-backend-cpu indexes them.
// Parameters: 8 batchA, 9 batchB.
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};

struct ARow { base: u32, ok: bool }
fn rowA(b: u32, row: u32) -> ARow {
  let M = m(0u);
  let base = (b % m(8u)) * M * m(2u);
  if (TRANS_A) { return ARow(base + row, row < M); }
  return ARow(base + row * m(2u), row < M);
}
struct AK { off: u32, ok: bool }
fn kA(k: u32) -> AK {
  if (TRANS_A) { return AK(k * m(0u), k < m(2u)); }
  return AK(k, k < m(2u));
}
fn loadA(r: ARow, q: AK) -> f32 {
  if (!(r.ok && q.ok)) { return 0.0; }
  return lhs[r.base + q.off];
}

struct BCol { base: u32, ok: bool }
fn colB(b: u32, col: u32) -> BCol {
  let N = m(1u);
  let base = (b % m(9u)) * m(2u) * N;
  if (TRANS_B) { return BCol(base + col * m(2u), col < N); }
  return BCol(base + col, col < N);
}
struct BK { off: u32, ok: bool }
fn kB(k: u32) -> BK {
  if (TRANS_B) { return BK(k, k < m(2u)); }
  return BK(k * m(1u), k < m(2u));
}
fn loadB(c: BCol, q: BK) -> f32 {
  if (!(c.ok && q.ok)) { return 0.0; }
  return rhs[c.base + q.off];
}

fn outRow(b: u32, row: u32) -> u32 { return b * m(0u) + row; }
