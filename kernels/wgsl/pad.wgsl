// PadV2 (constant) and MirrorPad (reflect, symmetric): one invocation per output element,
// which finds its source coordinate per dim; words are copied as u32 (any dtype).
// MIRROR: false for a constant pad, true for a mirror pad with EDGE = 0 (reflect:
// the edge element is not repeated) or 1 (symmetric: it is).
// RANK: dims after merging (constant pads fold each unpadded dim into the one outside it).
// Parameters: size, the constant's bits, then per dim outermost first: the output's extent,
// the padding before (i32), x's extent and x's stride.
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  var rest = i;
  var offset = 0u;
  var inside = true;
  for (var k = {{RANK}}u; k > 0u; k = k - 1u) {
    let d = k - 1u;
    let extent = m(2u + 4u * d);
    let n = mi(4u + 4u * d);
    var c = i32(rest % extent) - mi(3u + 4u * d);
    rest = rest / extent;
    if ({{MIRROR}}) {
      if (c < 0) {
        c = -c - {{EDGE}};
      } else if (c >= n) {
        c = 2 * (n - 1) - c + {{EDGE}};
      }
    } else if (c < 0 || c >= n) {
      inside = false;
    }
    offset = offset + u32(max(c, 0)) * m(5u + 4u * d);
  }
  if (inside) {
    dst[i] = src[offset];
  } else {
    dst[i] = m(1u);
  }
}
