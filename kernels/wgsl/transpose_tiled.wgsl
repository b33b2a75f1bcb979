// Batched 2-D transpose through workgroup memory: x of shape [B, R, C] to out [B, C, R].
// A workgroup of 32x8 invocations moves one 32x32 tile: it reads 32 rows of x with
// consecutive invocations on consecutive columns (coalesced), then writes 32 rows of the
// output from the transposed tile, again consecutive invocations on consecutive addresses.
// The tile row is padded to 33 words so that the column-wise reads hit distinct banks.
// Grid: x = ceil(C / 32), y = ceil(R / 32), z = B. Words are copied as u32 (any dtype).
// Parameters: R, C.
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
{{META}}

var<workgroup> tile: array<array<u32, 33>, 32>;

@compute @workgroup_size(32, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let rows = m(0u);
  let cols = m(1u);
  let base = wid.z * rows * cols;
  let r0 = wid.y * 32u;
  let c0 = wid.x * 32u;
  for (var j = 0u; j < 32u; j = j + 8u) {
    let r = r0 + lid.y + j;
    let c = c0 + lid.x;
    if (r < rows && c < cols) {
      tile[lid.y + j][lid.x] = src[base + r * cols + c];
    }
  }
  workgroupBarrier();
  for (var j = 0u; j < 32u; j = j + 8u) {
    let c = c0 + lid.y + j;
    let r = r0 + lid.x;
    if (r < rows && c < cols) {
      dst[base + c * rows + r] = tile[lid.x][lid.y + j];
    }
  }
}
