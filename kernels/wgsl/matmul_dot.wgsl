// MatMul for small outputs (a matrix times a vector, small matrices, few outputs over a long
// K), where a 64x64 tile of matmul.wgsl would mostly compute nothing: LANES invocations share
// each output, each summing every LANES-th k, and add their sums up in workgroup memory.
// LANES is 1 for short K (no reduction at all), 4 when a matrix times a vector reads the
// matrix across k (64 neighbouring outputs then read neighbouring words), 32 otherwise
// (consecutive lanes read consecutive k).
// Parameters: 0 M, 1 N, 2 K, 3 outputs (batch*M*N), 4 batchA, 5 batchB, 6 A's stride along
// m, 7 along k, 8 B's stride along k, 9 along n; the epilogue's from word 32.
{{BINDINGS}}
{{META}}

const LANES: u32 = {{LANES}}u;
const SLOTS: u32 = 256u / LANES;

var<workgroup> partial: array<f32, 256>;

{{EPILOGUE}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let total = m(3u);
  let g = wid.y * nwg.x + wid.x;
  if (g * SLOTS >= total) { return; }
  let lane = lid % LANES;
  let o = g * SLOTS + lid / LANES;
  var sum = 0.0;
  if (o < total) {
    let M = m(0u);
    let N = m(1u);
    let K = m(2u);
    let b = o / (M * N);
    let r = o % (M * N);
    let aBase = (b % m(4u)) * M * K + (r / N) * m(6u);
    let bBase = (b % m(5u)) * K * N + (r % N) * m(9u);
    let sk = m(7u);
    let tk = m(8u);
    for (var k = lane; k < K; k = k + LANES) {
      sum = sum + lhs[aBase + k * sk] * rhs[bBase + k * tk];
    }
  }
  if (LANES == 1u) {
    if (o < total) { out[o] = finish(o, sum); }
    return;
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s / 2u) {
    if (lane < s) { partial[lid] = partial[lid] + partial[lid + s]; }
    workgroupBarrier();
  }
  if (lane == 0u && o < total) { out[o] = finish(o, partial[lid]); }
}
