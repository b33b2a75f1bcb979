// Cumsum and Cumprod along one axis: one invocation per row (every index but the axis's),
// scanning it sequentially, in the order tfjs-backend-cpu does (so float sums round the same
// way), forwards or, with reverse, from the far end; exclusive shifts by one (the first
// element takes the identity). The tensor is viewed as [outer, axis, inner] in place, no
// transpose: row r = (o, n) starts at o * axis * inner + n and steps by inner, so consecutive
// invocations read and write consecutive words whenever inner > 1.
// {{OP}} is + or *, {{IDENTITY}} its identity in {{OUT}}; bool input (u32 0/1) becomes i32.
// Parameters: 0 rows, 1 axis extent, 2 inner, 3 exclusive, 4 reverse.
@group(0) @binding(0) var<storage, read> x: array<{{IN}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{OUT}}>;
{{META}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linearIndex(wid, nwg, lid);
  if (r >= m(0u)) { return; }
  let n = m(1u);
  let inner = m(2u);
  let exclusive = m(3u) != 0u;
  let reverse = m(4u) != 0u;
  let base = (r / inner) * n * inner + r % inner;
  var acc = {{IDENTITY}};
  for (var j = 0u; j < n; j = j + 1u) {
    var k = j;
    if (reverse) { k = n - 1u - j; }
    let at = base + k * inner;
    let v = {{OUT}}(x[at]);
    if (exclusive) {
      y[at] = acc;
      acc = acc {{OP}} v;
    } else {
      acc = acc {{OP}} v;
      y[at] = acc;
    }
  }
}
