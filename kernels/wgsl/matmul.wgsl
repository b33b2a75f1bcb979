// Tiled GEMM: out[b, m, n] = finish(sum_k A(b, m, k) * B(b, k, n)), the engine of MatMul and
// of the implicit-GEMM convolutions. Only the tile loads differ between them: the LOADERS
// defines how an element of A and of B is addressed (plain matrices with or without
// transposes, or im2col addressing straight into the NHWC input: no im2col buffer), and
// the EPILOGUE defines finish(i, v) (bias, activation) for the flat output index i.
//
// A workgroup of 256 invocations computes a 64x64 tile of the output; invocation (tx, ty)
// = (lid % 16, lid / 16) holds rows 4ty..4ty+3 and columns 4tx..4tx+3 of it in four vec4
// accumulators (register blocking: 16 multiply-adds per 2 vec4 reads of workgroup memory).
// K is walked in steps of TK: the workgroup first loads the 64xTK slice of A and the TKx64
// slice of B into workgroup memory cooperatively, TK/4 elements each, then every invocation
// reads them from there. The loads map consecutive invocations to the operand's contiguous
// dimension (A_KFAST: A is contiguous along k; B_NFAST: B along n), so that global
// reads are coalesced whatever the transposes, and no transposed copy is ever made.
//
// The loaders' contract, where b is the (flat) batch index:
//   struct ARow, fn rowA(b, m) -> ARow   state of one row of A, computed once per invocation
//   struct AK, fn kA(k) -> AK             state of one k for A (shared by the rows loaded at it)
//   fn loadA(r: ARow, q: AK) -> f32       the element, 0 outside the matrix (m >= M or k >= K)
// and BCol/colB(b, n), BK/kB(k), loadB(c, q) likewise for B; and
//   fn outRow(b, m) -> u32                the output row of row m (b * M + m, unless the GEMM
//                                          computes a subset of the output's rows)
//
// Split K: workgroups along z each take m(6) consecutive k (a multiple of TK) and write raw
// sums to slice z of a [z, m(7)] buffer (m(7): the output's size) (finish() is then the identity); a second pass
// (matmul_reduce.wgsl) adds the slices and applies the epilogue.
//
// Parameters (words): 0 M, 1 N, 2 K, 3 batch, 4 tiles along M, 5 tiles along N, 6 k per
// split, 7 batch*M*N; 8..31 the loaders'; 32.. the epilogue's.
{{BINDINGS}}
{{META}}

const TK: u32 = {{TK}}u;
// Elements of each tile one invocation loads: 64 * TK / 256.
const LOADS: u32 = TK / 4u;
const A_KFAST: bool = {{A_KFAST}};
const B_NFAST: bool = {{B_NFAST}};

// As[k * ROW + m / 4][m % 4] holds A(m0 + m, k0 + k): one vec4 read gives an invocation's
// four rows. Bs[k * ROW + n / 4][n % 4] likewise gives its four columns. Rows of 16 vec4s
// padded to 17: loads that run along k (A_KFAST, or B not N-fast) store to consecutive rows,
// which would otherwise all fall in one memory bank.
const ROW: u32 = 17u;
var<workgroup> As: array<vec4<f32>, 17u * {{TK}}u>;
var<workgroup> Bs: array<vec4<f32>, 17u * {{TK}}u>;

{{LOADERS}}

{{EPILOGUE}}

fn store(b: u32, row: u32, n: u32, v: vec4<f32>, offset: u32) {
  let M = m(0u);
  let N = m(1u);
  if (row >= M) { return; }
  let flat = outRow(b, row) * N + n;
  // Columns past N belong to no output (the last tile overhangs).
  if (n < N) { out[offset + flat] = finish(flat, v.x); }
  if (n + 1u < N) { out[offset + flat + 1u] = finish(flat + 1u, v.y); }
  if (n + 2u < N) { out[offset + flat + 2u] = finish(flat + 2u, v.z); }
  if (n + 3u < N) { out[offset + flat + 3u] = finish(flat + 3u, v.w); }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let K = m(2u);
  let tilesN = m(5u);
  let tilesMN = m(4u) * tilesN;
  // Tiles over a 2-D grid (past 65535 workgroups); the extra ones of the last row leave.
  // Workgroup ids are uniform, so this return keeps the barriers below in uniform control flow.
  let t = wid.y * nwg.x + wid.x;
  if (t >= tilesMN * m(3u)) { return; }
  let b = t / tilesMN;
  let r = t % tilesMN;
  let m0 = (r / tilesN) * 64u;
  let n0 = (r % tilesN) * 64u;
  let kBegin = wid.z * m(6u);
  let kEnd = min(K, kBegin + m(6u));

  // The rows of A and columns of B this invocation loads stay the same for every k step.
  var rowsA: array<ARow, LOADS>;
  var colsB: array<BCol, LOADS>;
  for (var j = 0u; j < LOADS; j = j + 1u) {
    if (A_KFAST) { rowsA[j] = rowA(b, m0 + (lid + 256u * j) / TK); }
    else { rowsA[j] = rowA(b, m0 + lid % 64u); }
    if (B_NFAST) { colsB[j] = colB(b, n0 + lid % 64u); }
    else { colsB[j] = colB(b, n0 + (lid + 256u * j) / TK); }
  }

  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var k0 = kBegin; k0 < kEnd; k0 = k0 + TK) {
    if (A_KFAST) {
      // Invocation lid loads k = lid % TK of rows (lid + 256j) / TK: one k state for all.
      let kk = lid % TK;
      let q = kA(k0 + kk);
      for (var j = 0u; j < LOADS; j = j + 1u) {
        let mm = (lid + 256u * j) / TK;
        As[kk * ROW + mm / 4u][mm % 4u] = loadA(rowsA[j], q);
      }
    } else {
      // Invocation lid loads row lid % 64 at k = lid / 64 + 4j.
      let mm = lid % 64u;
      for (var j = 0u; j < LOADS; j = j + 1u) {
        let kk = lid / 64u + 4u * j;
        As[kk * ROW + mm / 4u][mm % 4u] = loadA(rowsA[0], kA(k0 + kk));
      }
    }
    if (B_NFAST) {
      let nn = lid % 64u;
      for (var j = 0u; j < LOADS; j = j + 1u) {
        let kk = lid / 64u + 4u * j;
        Bs[kk * ROW + nn / 4u][nn % 4u] = loadB(colsB[0], kB(k0 + kk));
      }
    } else {
      let kk = lid % TK;
      let q = kB(k0 + kk);
      for (var j = 0u; j < LOADS; j = j + 1u) {
        let nn = (lid + 256u * j) / TK;
        Bs[kk * ROW + nn / 4u][nn % 4u] = loadB(colsB[j], q);
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
      let a = As[kk * ROW + ty];
      let bv = Bs[kk * ROW + tx];
      // Plain multiply-add rather than fma(): drivers contract it where the hardware has FMA,
      // and CPU Vulkan (SwiftShader) without it would otherwise call a slow software fma.
      acc0 = acc0 + a.x * bv;
      acc1 = acc1 + a.y * bv;
      acc2 = acc2 + a.z * bv;
      acc3 = acc3 + a.w * bv;
    }
    workgroupBarrier();
  }

  let offset = wid.z * m(7u);
  let row = m0 + ty * 4u;
  let n = n0 + tx * 4u;
  store(b, row, n, acc0, offset);
  store(b, row + 1u, n, acc1, offset);
  store(b, row + 2u, n, acc2, offset);
  store(b, row + 3u, n, acc3, offset);
}
