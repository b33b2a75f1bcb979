// MaxPool / AvgPool forward over NHWC x (and the argmax pass of MaxPoolGrad): one invocation
// per output element (per four channels when V is a vec4), which walks the part of its
// window inside x. Consecutive invocations take consecutive channels, so every load of a
// window row is coalesced. The body comes from the JS side:
// INIT declares the accumulator, ACC folds in the value v (w: its offset in the
// window, row-major), RESULT is the output.
// Parameters: size, channels (in V units), inHeight, inWidth, outHeight, outWidth,
// filterHeight, filterWidth, strideHeight, strideWidth, padTop (i32), padLeft (i32).
@group(0) @binding(0) var<storage, read> x: array<{{V}}>;
@group(0) @binding(1) var<storage, read_write> out: array<{{OUT_V}}>;
{{META}}

// NaN by its bits, per component: a NaN never wins a max window (tfjs-backend-cpu compares
// with >, which is false for NaN).
fn notNan(v: {{V}}) -> {{BOOL_V}} {
  return (bitcast<{{BITS_V}}>(v) & {{BITS_V}}(0x7fffffffu)) <= {{BITS_V}}(0x7f800000u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= m(0u)) { return; }
  let channels = m(1u);
  let inH = i32(m(2u));
  let inW = i32(m(3u));
  let outH = m(4u);
  let outW = m(5u);
  let fH = i32(m(6u));
  let fW = i32(m(7u));
  let d = i % channels;
  var t = i / channels;
  let yC = t % outW;
  t = t / outW;
  let yR = t % outH;
  let b = t / outH;
  let rCorner = i32(yR * m(8u)) - mi(10u);
  let cCorner = i32(yC * m(9u)) - mi(11u);
  let r0 = max(rCorner, 0);
  let r1 = min(inH, rCorner + fH);
  let c0 = max(cCorner, 0);
  let c1 = min(inW, cCorner + fW);
  {{INIT}}
  for (var r = r0; r < r1; r = r + 1) {
    let rowBase = (b * u32(inH) + u32(r)) * u32(inW);
    for (var c = c0; c < c1; c = c + 1) {
      let v = x[(rowBase + u32(c)) * channels + d];
      let w = (r - rCorner) * fW + (c - cCorner);
      {{ACC}}
    }
  }
  out[i] = {{RESULT}};
}
