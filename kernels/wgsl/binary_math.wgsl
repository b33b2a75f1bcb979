// Scalar math of the binary kernels whose tfjs-backend-cpu results (JS doubles, stored in a
// Float32Array or Int32Array) a direct WGSL expression would not reproduce: Pow, FloorDiv,
// Mod, and int32 division. Needs unary_math.wgsl and the META prelude.

// ---- exact residuals ----------------------------------------------------------------------
// GPU division is not correctly rounded (WGSL allows 2.5 ulp), so a quotient near an integer
// can land on either side of it; FloorDiv and Mod decide which side with the sign of the
// exact residual a - k*b, from Dekker's error-free product (k*b = p + e exactly).

// a - k*b, rounded once (exactly when the result is representable and p is near a).
fn residualF(a: f32, k: f32, b: f32) -> f32 {
  let p = k * b;
  let ks = splitF(k);
  let bs = splitF(b);
  let e = ((ks.x * bs.x - p) + ks.x * bs.y + ks.y * bs.x) + ks.y * bs.y;
  return (a - p) - e;
}

// Whether the exact quotient a / b is at least k (b != 0).
fn quotientAtLeast(a: f32, k: f32, b: f32) -> bool {
  let r = residualF(a, k, b);
  return r == 0.0 || ((r > 0.0) == (b > 0.0));
}

// floor(a / b) of the exact quotient for |a / b| < 2^23, where f and f + 1 are exact.
fn floorDivSmallF(a: f32, b: f32) -> f32 {
  let q = a / b;
  var f = floor(q);
  if (quotientAtLeast(a, f + 1.0, b)) { f = f + 1.0; } else if (!quotientAtLeast(a, f, b)) { f = f - 1.0; }
  return f;
}

// Math.floor(a / b) in doubles, stored in an Int32Array. Whatever the doubles make of a zero
// divisor, NaN or an infinity (NaN, +-Inf, or a / Inf = +-0) stores 0. Past 2^23 the float32
// quotient has no fraction bits left while the double one still has: the floor is then
// f + floor(r / b), with f the float32 floor and r = a - f * b, added in wrapping i32 as
// ToInt32 wraps. Exact while |r / b| < 2^23, i.e. |a / b| below about 2^46; past that an
// approximation (as, from 2^53 on, the doubles are too).
fn floorDivToI32(a: f32, b: f32) -> i32 {
  if (!isFiniteF(a) || !isFiniteF(b) || b == 0.0) { return 0; }
  if (a == 0.0) { return 0; }
  let q = a / b;
  if (!isFiniteF(q)) { return 0; }
  // A quotient that underflowed to 0 still has a sign: floor gives -1 below 0.
  if (q == 0.0) { return select(0, -1, signBit(a) != signBit(b)); }
  if (abs(q) < 8388608.0) { return i32(floorDivSmallF(a, b)); }
  let f = floor(q);
  let r = residualF(a, f, b);
  let d = r / b;
  if (abs(d) < 8388608.0) { return toI32(f) + i32(floorDivSmallF(r, b)); }
  return toI32(f) + toI32(floor(d));
}

// r mod b for finite r >= 0 and b > 0, exactly: each round takes off a multiple k * s of
// s = b * 2^m with k < 2^22 (so that k is exact and the corrected residual representable).
fn fmodPosF(r0: f32, b: f32) -> f32 {
  var r = r0;
  for (var it = 0; it < 16 && r >= b; it = it + 1) {
    let gap = i32((bitcast<u32>(r) >> 23u) & 0xffu) - i32((bitcast<u32>(b) >> 23u) & 0xffu);
    let s = ldexp(b, max(gap - 20, 0));
    r = residualF(r, floorDivSmallF(r, s), s);
  }
  return r;
}

// JS a % b: the remainder of the truncated quotient, with a's sign, exact.
fn fmodF(a: f32, b: f32) -> f32 {
  if (isNan(a) || isNan(b) || isInfF(a) || b == 0.0) { return nan(); }
  if (isInfF(b) || a == 0.0) { return a; }
  let r = fmodPosF(absF(a), absF(b));
  return negIf(r, signBit(a));
}

// tfjs's Mod: the JS remainder moved to the divisor's sign, (rem + b) % b when the signs
// differ, in doubles. There |rem| < |b| with opposite signs, so the exact rem + b lies
// within b and the final % changes nothing: the float32 sum rem + b is the answer, except
// where the double sum itself rounds to b (% then gives 0) while the float32 one merely
// rounds to b.
fn modF(a: f32, b: f32) -> f32 {
  let rem = fmodF(a, b);
  if ((a < 0.0 && b < 0.0) || (a >= 0.0 && b >= 0.0)) { return rem; }
  if (isNan(rem) || isInfF(b)) { return nan(); }
  if (rem == 0.0) { return negIf(0.0, signBit(b)); }
  let s = rem + b;
  if (s != b) { return s; }
  return select(b, negIf(0.0, signBit(b)), abs(rem) <= abs(b) * 1.1102230246251565e-16);
}

fn modI(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; } // NaN, stored as 0
  let rem = a % b; // WGSL gives 0 for INT_MIN % -1, as JS's -0 stores
  if ((a < 0 && b < 0) || (a >= 0 && b >= 0)) { return rem; }
  return (rem + b) % b;
}

// Math.floor(a / b) stored in an Int32Array: x / 0 stores 0; INT_MIN / -1 wraps to INT_MIN
// (WGSL's i32 division returns a there, which is the same).
fn floorDivI(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  var q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) { q = q - 1; }
  return q;
}

// a / b stored in an Int32Array: truncation toward zero, x / 0 stores 0.
fn divI(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  return a / b;
}

// ---- Pow ----------------------------------------------------------------------------------

// Math.pow for float32 inputs: JS's special cases (y = 0 gives 1 even for NaN x, |x| = 1 with
// infinite y gives NaN, signed zeros and infinities by the parity of y); integer exponents up
// to 64 by repeated squaring (exact small powers, where e^(y log x) is a few ulp off); the
// rest as e^(y log |x|), with the sign from the parity of y.
fn powF(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (isNan(x) || isNan(y)) { return nan(); }
  let ax = absF(x);
  if (isInfF(y)) {
    if (ax == 1.0) { return nan(); }
    return select(0.0, inf(), (ax > 1.0) == (y > 0.0));
  }
  let yInt = floor(y) == y;
  // Every float32 of magnitude 2^24 or more is even.
  let yOdd = yInt && abs(y) < 16777216.0 && floor(y * 0.5) * 2.0 != y;
  let negative = signBit(x) && yOdd;
  if (isInfF(x) || ax == 0.0) {
    // +-Inf: Inf for y > 0, 0 for y < 0; +-0 the other way round; signed when odd.
    let big = isInfF(x) == (y > 0.0);
    let r = select(0.0, inf(), big);
    return negIf(r, negative);
  }
  if (x < 0.0 && !yInt) { return nan(); }
  if (ax == 1.0) { return select(1.0, -1.0, negative); }
  var mag: f32;
  if (yInt && abs(y) <= 64.0) {
    var n = u32(abs(y));
    var base = ax;
    var acc = 1.0;
    loop {
      if ((n & 1u) != 0u) { acc = acc * base; }
      n = n >> 1u;
      if (n == 0u) { break; }
      base = base * base;
    }
    mag = acc;
    if (y < 0.0) {
      // 1 / x^n, unless x^n left the float32 range while x^-n did not.
      if (acc == 0.0 || isInfF(acc)) { mag = expF(y * logCore(ax)); } else { mag = 1.0 / acc; }
    }
  } else {
    mag = expF(y * logCore(ax));
  }
  return negIf(mag, negative);
}

// Math.pow of int32s stored in an Int32Array. The doubles hold the power rounded to 53 bits,
// of which ToInt32 keeps the low 32: here the exact power in 96 bits, rounded alike (from
// 2^85 on the rounded power is a multiple of 2^32, which stores 0). Exact below 2^53; between
// 2^53 and 2^85 V8's Math.pow is not always correctly rounded, and may differ in the last ulp. A negative exponent gives
// a fraction (stored as 0) unless x is 1 or -1, and 0^-n = Infinity stores 0.
fn powI(x: i32, y: i32) -> i32 {
  if (y == 0) { return 1; }
  if (x == -1) { return select(1, -1, (y & 1) != 0); }
  if (y < 0) { return select(0, 1, x == 1); }
  if (x == 0 || x == 1) { return x; }
  let ax = bitcast<u32>(abs(x));
  // |x| >= 2, so the loop ends within 85 rounds.
  var w = vec3<u32>(1u, 0u, 0u);
  for (var k = 0; k < y; k = k + 1) {
    let p0 = mulU64(w.x, ax);
    let p1 = mulU64(w.y, ax);
    let p2 = mulU64(w.z, ax);
    let mid = p0.y + p1.x;
    let t1 = p1.y + p2.x;
    let top = t1 + select(0u, 1u, mid < p0.y);
    if (p2.y != 0u || t1 < p1.y || top < t1 || top >= 0x200000u) { return 0; }
    w = vec3<u32>(p0.x, mid, top);
  }
  let r = bitcast<i32>(roundLowWord(w.x, bitLength(w), 53u));
  return select(r, -r, x < 0 && (y & 1) != 0);
}
