// finish(i, v) for the flat output index i: bias, then the activation, as _FusedMatMul,
// FusedConv2D and FusedDepthwiseConv2D apply them (tfjs-backend-cpu's Add, then the
// activation kernel). Bias and prelu weights broadcast into the output without enlarging it:
// either they match its trailing dims (leading 1s dropped: index i % size), or general
// strides over the output's dims (0 where they broadcast).
// Parameters from word 32: 32 leakyrelu alpha (f32); 33..38 the output's dims (outermost
// first, padded with leading 1s to 6); 39 bias size, 40..45 bias strides; 46 prelu weights'
// size, 47..52 their strides.

fn operandIndex(i: u32, at: u32, general: bool) -> u32 {
  if (!general) { return i % m(at); }
  var rest = i;
  var index = 0u;
  for (var d = 5i; d >= 0i; d = d - 1i) {
    let extent = m(33u + u32(d));
    index = index + (rest % extent) * m(at + 1u + u32(d));
    rest = rest / extent;
  }
  return index;
}

fn finish(i: u32, sum: f32) -> f32 {
  var v = sum;
  {{BIAS}}
  {{ACTIVATION}}
  return v;
}
