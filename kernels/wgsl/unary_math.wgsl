// Scalar math shared by the elementwise kernels (unary.wgsl, binary*.wgsl): the functions
// whose WGSL built-ins leave results indeterminate outside a domain, drop accuracy where
// tfjs-backend-cpu's double-precision JS does not, or treat NaN, infinities and signed zeros
// differently from JS Math. Every special value is decided explicitly by bits (isNan(),
// isInfF()), since WGSL allows compilers to assume finite math.
// Needs the META prelude (isNan, nan, inf).

const PI_F: f32 = 3.141592653589793;
const HALF_PI_F: f32 = 1.5707963267948966;
const LN2_F: f32 = 0.6931471805599453;

fn isInfF(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn isFiniteF(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn signBit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }
fn absF(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu); }
// x with its sign flipped when c: by bits, since a compiler that assumes no signed zeros may
// turn select(r, -r, c) into r for r = 0.
fn negIf(x: f32, c: bool) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ select(0u, 0x80000000u, c)); }
// +-1 with the sign of x (also for -0 and NaN payloads): copysign(1, x).
fn sgn1(x: f32) -> f32 { return select(1.0, -1.0, signBit(x)); }

// What an Int32Array stores for a number (ECMAScript ToInt32): NaN and +-Inf give 0, the
// rest truncates toward zero and wraps modulo 2^32.
fn toI32(v: f32) -> i32 {
  if (!isFiniteF(v)) { return 0; }
  let t = trunc(v);
  if (abs(t) < 2147483648.0) { return i32(t); }
  // |t| >= 2^31 is a multiple of 256, so t mod 2^32 is exact in f32 and below 2^32.
  let r = t - floor(t / 4294967296.0) * 4294967296.0;
  return bitcast<i32>(u32(r));
}

// e^x to about an ulp for |x| <= 104 (GPU exp runs through exp2 of x * log2(e), whose
// rounding alone costs |x| ulps): x = k ln2 + r with ln 2 in two parts (the first, 355/512,
// exact times k), e^r by its Taylor series to r^7 on |r| <= ln2 / 2, scaled by 2^k in two
// exact steps (2^k alone overflows for k = 128).
fn expCore(x: f32) -> f32 {
  let k = round(x * 1.4426950408889634);
  let r = (x - k * 0.693359375) + k * 2.1219444005469057e-4;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664
    + r * (0.008333333333333333 + r * (0.001388888888888889 + r * 0.0001984126984126984))))));
  let k1 = i32(k) / 2;
  let k2 = i32(k) - k1;
  return p * bitcast<f32>(u32(k1 + 127) << 23u) * bitcast<f32>(u32(k2 + 127) << 23u);
}

// log(x) to about an ulp for finite x > 0 (normal): x = 2^e m with m in [sqrt(1/2), sqrt(2)),
// log m = 2 atanh(s), s = (m - 1) / (m + 1), by its series to s^11; ln 2 in two parts.
fn logCore(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  var e = i32(bits >> 23u) - 127;
  var m = bitcast<f32>((bits & 0x7fffffu) | 0x3f800000u);
  if (m > 1.4142135623730951) {
    m = m * 0.5;
    e = e + 1;
  }
  let f = m - 1.0;
  let s = f / (2.0 + f);
  let z = s * s;
  let l = 2.0 * s * (1.0 + z * (0.3333333333333333 + z * (0.2 + z * (0.14285714285714285 + z * (0.1111111111111111 + z * 0.09090909090909091)))));
  let fe = f32(e);
  return fe * 0.693359375 + (l - fe * 2.1219444005469057e-4);
}

// e^x - 1, accurate near 0 (exp(x) - 1 loses the low bits there): Taylor series to x^9 on
// |x| < 0.5 (truncation error < 3e-10 relative).
fn expm1F(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * (0.008333333333333333
      + x * (0.001388888888888889 + x * (0.0001984126984126984 + x * (0.0000248015873015873 + x * 0.0000027557319223985893))))))));
  }
  if (x > 88.72284) { return inf(); }
  if (x < -20.0) { return -1.0; }
  return expCore(x) - 1.0;
}

// log(1 + x), accurate near 0: 2 atanh(s) with s = x / (2 + x), series to s^13 on |x| < 0.5.
fn log1pF(x: f32) -> f32 {
  if (isNan(x) || x < -1.0) { return nan(); }
  if (x == -1.0) { return -inf(); }
  if (isInfF(x)) { return x; }
  if (abs(x) < 0.5) {
    let s = x / (2.0 + x);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (0.3333333333333333 + s2 * (0.2 + s2 * (0.14285714285714285
      + s2 * (0.1111111111111111 + s2 * (0.09090909090909091 + s2 * 0.07692307692307693))))));
  }
  return logCore(1.0 + x);
}

fn logF(x: f32) -> f32 {
  if (isNan(x) || x < 0.0) { return nan(); }
  if (x == 0.0) { return -inf(); }
  if (isInfF(x)) { return x; }
  return logCore(x);
}

fn expF(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  // Past these, JS's double result rounds to Infinity / 0 as a float32.
  if (x > 88.72284) { return inf(); }
  if (x < -104.0) { return 0.0; }
  return expCore(x);
}

fn sqrtF(x: f32) -> f32 {
  if (isNan(x) || x < 0.0) { return nan(); }
  if (x == 0.0 || isInfF(x)) { return x; } // keeps -0 as Math.sqrt does
  return sqrt(x);
}

// Veltkamp's split of a into two halves of 12 significant bits; 4097 * a must not overflow,
// so large values are split scaled down by 2^32 (exact).
fn splitF(a: f32) -> vec2<f32> {
  var x = a;
  var scale = 1.0;
  if (abs(a) > 1e30) {
    x = a * 2.3283064365386963e-10;
    scale = 4294967296.0;
  }
  let c = 4097.0 * x;
  let hi = c - (c - x);
  return vec2<f32>(hi, x - hi) * scale;
}

// a * b = p + e exactly (Dekker): (p, e).
fn twoProduct(a: f32, b: f32) -> vec2<f32> {
  let p = a * b;
  let sa = splitF(a);
  let sb = splitF(b);
  return vec2<f32>(p, ((sa.x * sb.x - p) + sa.x * sb.y + sa.y * sb.x) + sa.y * sb.y);
}

// 2/pi in binary, 32 bits a word, after a word of zeros (the bits above the binary point).
var<private> TWO_OVER_PI: array<u32, 9> = array<u32, 9>(0u, 0xa2f9836eu, 0x4e441529u, 0xfc2757d1u,
  0xf534ddc0u, 0xdb629599u, 0x3c439041u, 0xfe5163abu, 0xdebbc561u);

fn twoOverPiBits(word: u32, shift: u32) -> u32 {
  if (shift == 0u) { return TWO_OVER_PI[word]; }
  return (TWO_OVER_PI[word] << shift) | (TWO_OVER_PI[word + 1u] >> (32u - shift));
}

// Payne-Hanek reduction of finite x, |x| >= 2^-7, by pi/2: x = q pi/2 + r (mod 2 pi) with
// |r| <= pi/4, r = r.x + r.y to about 2^-48 relative (q in .z). With |x| = m 2^e (m the 24-bit
// significand), the bits of 2/pi of weight above 2^(1-e) only add multiples of 4 to
// |x| 2/pi; the next 96 bits W give the rest as m W 2^-94: the quadrant and 64 fraction bits
// (the bits of 2/pi left out weigh < 2^-70). WGSL guarantees sin, cos and tan only on
// [-pi, pi], GPUs lose accuracy outside, and Cody-Waite with float32 parts of pi/2 loses the
// leading bits of r near a multiple of pi/2, which tan needs there.
fn reducePiOver2(x: f32) -> vec3<f32> {
  let bits = bitcast<u32>(x);
  let m = (bits & 0x7fffffu) | 0x800000u;
  let e = i32((bits >> 23u) & 0xffu) - 150;
  let t = u32(e + 30); // the table's bit offset of weight 2^(1-e)
  let word = t / 32u;
  let shift = t % 32u;
  let a = mulU64(twoOverPiBits(word + 2u, shift), m);
  let b = mulU64(twoOverPiBits(word + 1u, shift), m);
  let c = mulU64(twoOverPiBits(word, shift), m);
  let p1 = a.y + b.x;
  let p2 = b.y + c.x + select(0u, 1u, p1 < a.y);
  // Bits 94-95 of m W: the quadrant; bits 30-93: the fraction of a quarter turn, taken as
  // signed (in [-1/2, 1/2), the quadrant rounded to nearest).
  let high = bitcast<i32>((p2 << 2u) | (p1 >> 30u));
  let low = (p1 << 2u) | (a.x >> 30u);
  var q = ((p2 >> 30u) + (bitcast<u32>(high) >> 31u)) & 3u;
  // The fraction as fh + fl (fh exact: the top 24 bits of high), times pi/2 as ch + cl.
  let fh = f32(high & ~0xff) * 2.3283064365386963e-10;
  let fl = (f32(high & 0xff) + f32(low) * 2.3283064365386963e-10) * 2.3283064365386963e-10;
  let ch = 1.5707963705062866;
  let cl = -4.371139000186243e-8;
  let p = twoProduct(fh, ch);
  let rest = p.y + fh * cl + fl * ch;
  var rh = p.x + rest;
  var rl = rest - (rh - p.x);
  if (signBit(x)) {
    rh = -rh;
    rl = -rl;
    q = (4u - q) & 3u;
  }
  return vec3<f32>(rh, rl, f32(q));
}

// sin and cos of r = rh + rl (|r| <= pi/4): the Cephes single-precision polynomials at rh,
// corrected to first order in rl.
fn sinPoly(rh: f32, rl: f32) -> f32 {
  let z = rh * rh;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * rh + (rh + rl * (1.0 - 0.5 * z));
}

fn cosPoly(rh: f32, rl: f32) -> f32 {
  let z = rh * rh;
  return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0 - rl * rh;
}

// sin (which = 0) or cos (which = 1) of finite x with JS's accuracy.
fn sinCosF(x: f32, which: u32) -> f32 {
  if (!isFiniteF(x)) { return nan(); }
  var r = vec3<f32>(x, 0.0, 0.0);
  if (abs(x) > 0.7853981633974483) { r = reducePiOver2(x); }
  let k = (u32(r.z) + which) & 3u;
  if (k == 0u) { return sinPoly(r.x, r.y); }
  if (k == 1u) { return cosPoly(r.x, r.y); }
  if (k == 2u) { return -sinPoly(r.x, r.y); }
  return -cosPoly(r.x, r.y);
}

// tan: sin / cos of r in an even quadrant (|tan| <= 1), -cot(r) in an odd one. Near a pole
// (|r| < 0.1), where the float32 result has an ulp far above tfjs's tolerance and sin(r)/cos(r)
// would be an ulp or two off, cot(r) = 1/r - r/3 - r^3/45 - 2r^5/945 is summed in double
// float32 (1/r corrected by the exact residual of the division) and rounded once.
fn tanF(x: f32) -> f32 {
  if (!isFiniteF(x)) { return nan(); }
  var r = vec3<f32>(x, 0.0, 0.0);
  if (abs(x) > 0.7853981633974483) { r = reducePiOver2(x); }
  let rh = r.x;
  let rl = r.y;
  if ((u32(r.z) & 1u) == 0u) { return sinPoly(rh, rl) / cosPoly(rh, rl); }
  if (abs(rh) >= 0.1) { return -cosPoly(rh, rl) / sinPoly(rh, rl); }
  if (rh == 0.0) { return negIf(inf(), !signBit(rh)); }
  let q = 1.0 / rh;
  let p = twoProduct(q, rh);
  let e = (1.0 - p.x) - p.y; // 1 - q rh, exactly
  let z = rh * rh;
  let tail = q * (e - rl * q) - rh * (0.3333333333333333 + z * (0.022222222222222223 + z * 0.0021164021164021165));
  return -(q + tail);
}

// atan2(y, x) with JS Math.atan2's zeros and infinities (the built-in leaves atan2(0, 0)
// undefined, and its handling of infinities is not specified).
fn atan2F(y: f32, x: f32) -> f32 {
  if (isNan(y) || isNan(x)) { return nan(); }
  var r: f32;
  if (y == 0.0) {
    r = select(0.0, PI_F, signBit(x));
  } else if (isInfF(y)) {
    if (isInfF(x)) { r = select(0.7853981633974483, 2.356194490192345, x < 0.0); } else { r = HALF_PI_F; }
  } else if (isInfF(x)) {
    r = select(0.0, PI_F, x < 0.0);
  } else if (x == 0.0) {
    r = HALF_PI_F;
  } else {
    r = atan2(absF(y), x);
  }
  return negIf(r, signBit(y));
}

fn atanF(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  if (isInfF(x)) { return sgn1(x) * HALF_PI_F; }
  return atan(x);
}

// asin and acos through atan2 of factors that stay exact near +-1 (1 - x*x does not).
fn asinF(x: f32) -> f32 {
  if (isNan(x) || abs(x) > 1.0) { return nan(); }
  if (x == 0.0) { return x; }
  return atan2F(x, sqrt((1.0 - x) * (1.0 + x)));
}

fn acosF(x: f32) -> f32 {
  if (isNan(x) || abs(x) > 1.0) { return nan(); }
  return 2.0 * atan2F(sqrt(1.0 - x), sqrt(1.0 + x));
}

// sinh and cosh from E = e^|x| / 2, taken as (h / 2) h with h = e^(|x| / 2): finite up to the
// float32 range of the result (e^|x| itself overflows first); sinh uses its series near 0.
fn halfExp(a: f32) -> f32 {
  let h = expCore(0.5 * a);
  return (0.5 * h) * h;
}

fn sinhF(x: f32) -> f32 {
  if (isNan(x) || isInfF(x)) { return x; }
  let a = abs(x);
  if (a < 1.0) {
    let z = a * a;
    let s = a * (1.0 + z * (0.16666666666666666 + z * (0.008333333333333333 + z * (0.0001984126984126984
      + z * (0.0000027557319223985893 + z * 2.505210838544172e-8)))));
    return negIf(s, signBit(x));
  }
  if (a > 89.5) { return sgn1(x) * inf(); }
  let e = halfExp(a);
  return sgn1(x) * (e - 0.25 / e);
}

fn coshF(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  let a = abs(x);
  if (a > 89.5) { return inf(); }
  let e = halfExp(a);
  return e + 0.25 / e;
}

// tanh from expm1: finite for every x (no inf / inf), accurate near 0; +-1 past 9, where
// the float32 result is exactly +-1.
fn tanhF(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  let a = abs(x);
  if (a >= 9.0) { return sgn1(x); }
  let u = expm1F(2.0 * a);
  let t = u / (u + 2.0);
  return negIf(t, signBit(x));
}

fn asinhF(x: f32) -> f32 {
  if (isNan(x) || isInfF(x) || x == 0.0) { return x; }
  let a = abs(x);
  var r: f32;
  if (a > 1e10) {
    r = logCore(a) + LN2_F;
  } else {
    // log(a + sqrt(a^2 + 1)) = log1p(a + a^2 / (1 + sqrt(a^2 + 1))): no cancellation near 0.
    r = log1pF(a + a * a / (1.0 + sqrt(a * a + 1.0)));
  }
  return sgn1(x) * r;
}

fn acoshF(x: f32) -> f32 {
  if (isNan(x) || x < 1.0) { return nan(); }
  if (isInfF(x)) { return x; }
  if (x > 1e10) { return logCore(x) + LN2_F; }
  let t = x - 1.0; // exact near 1
  return log1pF(t + sqrt(2.0 * t + t * t));
}

fn atanhF(x: f32) -> f32 {
  if (isNan(x) || abs(x) > 1.0) { return nan(); }
  let a = abs(x);
  if (a == 1.0) { return sgn1(x) * inf(); }
  if (a == 0.0) { return x; }
  return sgn1(x) * 0.5 * log1pF(2.0 * a / (1.0 - a));
}

// tfjs's erf: Abramowitz & Stegun 7.1.26 with backend_util's ERF_* constants,
// 1 - h(t) e^(-x^2) with t = 1 / (1 + p|x|) and h(t) = a1 t + ... + a5 t^5 (sign of x).
// Near 0, h(t) is 1 - 1e-9 and that difference is the whole result: there it is evaluated as
// (1 - h) + h (1 - e^(-x^2)), with 1 - h expanded exactly in u = 1 - t (the coefficients
// from the ERF_* constants, the constant term 1 - (a1 + ... + a5) in doubles).
fn erfF(x: f32) -> f32 {
  if (isNan(x) || x == 0.0) { return x; }
  if (isInfF(x)) { return sgn1(x); }
  let v = abs(x);
  var r: f32;
  if (v < 0.5) {
    let u = 0.3275911 * v / (1.0 + 0.3275911 * v);
    let oneMinusH = 1.000000082740371e-9 + u * (3.44449638 + u * (-5.874886615 + u * (6.222859923 + u * (-3.853875118 + u * 1.061405429))));
    r = oneMinusH + (1.0 - oneMinusH) * -expm1F(-v * v);
  } else {
    let t = 1.0 / (1.0 + 0.3275911 * v);
    let h = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
    r = 1.0 - h * expF(-v * v);
  }
  return negIf(r, signBit(x));
}

// 1 / (1 + e^-x) from e = e^-|x| <= 1: no overflow, no inf / inf.
fn sigmoidF(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  let e = expF(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}

// tfjs's softplus: x past -log(eps) - 2, e^x below log(eps) + 2, log(1 + e^x) between
// (with log1p: in float32, 1 + e^x would drop most of e^x's bits for negative x).
fn softplusF(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  if (x < -13.942385152878742) { return expF(x); }
  if (x > 13.942385152878742) { return x; }
  return log1pF(expCore(x));
}

// floor(sqrt(x)) for int32 x >= 0, exactly (the float32 square root of a large int32 can
// land on the wrong side of an integer); Math.sqrt of a negative int32 stores 0 (NaN).
fn isqrtI(x: i32) -> i32 {
  if (x <= 0) { return 0; }
  let n = u32(x);
  var r = u32(sqrt(f32(x)));
  r = min(r, 46340u);
  if ((r + 1u) * (r + 1u) <= n) { r = r + 1u; }
  if (r * r > n) { r = r - 1u; }
  return i32(r);
}

// x / y with JS's zeros and infinities: WGSL bounds division's error only for |y| in
// [2^-126, 2^126] (past 2^126 a GPU's reciprocal flushes to 0), so the divisors outside it
// are decided here or scaled into it.
fn divF(x: f32, y: f32) -> f32 {
  if (isNan(x) || isNan(y)) { return nan(); }
  if (y == 0.0) {
    if (x == 0.0) { return nan(); }
    return select(inf(), -inf(), signBit(x) != signBit(y));
  }
  if (isInfF(y)) {
    if (isInfF(x)) { return nan(); }
    return negIf(0.0, signBit(x) != signBit(y));
  }
  if (abs(y) > 8.5e37) { return (x * 0.25) / (y * 0.25); }
  return x / y;
}

// ---- int32 products as JS computes them ---------------------------------------------------
// tfjs-backend-cpu multiplies int32s in doubles (53 significant bits) and stores the product
// in an Int32Array (ToInt32: the low 32 bits of the rounded integer); its Abs and Square write
// int32 results through a Float32Array (24 significant bits) first. These give the same from
// the exact 64-bit value, so that they also hold where the rounding drops low bits.

// a * b as a u64: (lo, hi) words, from 16-bit halves.
fn mulU64(a: u32, b: u32) -> vec2<u32> {
  let ah = a >> 16u;
  let al = a & 0xffffu;
  let bh = b >> 16u;
  let bl = b & 0xffffu;
  let m1 = ah * bl;
  let m2 = al * bh;
  let mid = m1 + m2;
  let midCarry = select(0u, 0x10000u, mid < m1);
  let low = al * bl;
  let lo = low + (mid << 16u);
  let hi = ah * bh + (mid >> 16u) + midCarry + select(0u, 1u, lo < low);
  return vec2<u32>(lo, hi);
}

// The bit length of the integer w.x + w.y * 2^32 + w.z * 2^64.
fn bitLength(w: vec3<u32>) -> u32 {
  if (w.z != 0u) { return 96u - countLeadingZeros(w.z); }
  if (w.y != 0u) { return 64u - countLeadingZeros(w.y); }
  return 32u - countLeadingZeros(w.x);
}

// The low 32 bits of an integer of `bits` bits whose low word is lo, rounded to `keep`
// significant bits, ties to even.
fn roundLowWord(lo: u32, bits: u32, keep: u32) -> u32 {
  if (bits <= keep) { return lo; }
  let shift = bits - keep;
  // The rounded value is then a multiple of 2^32: its low word is 0.
  if (shift >= 32u) { return 0u; }
  let mask = (1u << shift) - 1u;
  let rem = lo & mask;
  let half = 1u << (shift - 1u);
  let up = rem > half || (rem == half && ((lo >> shift) & 1u) == 1u);
  return (lo & ~mask) + select(0u, 1u << shift, up);
}

// The same for v = hi * 2^32 + lo.
fn roundLow32(lo: u32, hi: u32, keep: u32) -> u32 {
  return roundLowWord(lo, bitLength(vec3<u32>(lo, hi, 0u)), keep);
}

// x * y in doubles, stored in an Int32Array.
fn mulI(x: i32, y: i32) -> i32 {
  let p = mulU64(bitcast<u32>(abs(x)), bitcast<u32>(abs(y)));
  let r = bitcast<i32>(roundLow32(p.x, p.y, 53u));
  return select(r, -r, (x < 0) != (y < 0));
}

// (x - y)^2 in doubles (the difference is exact there), stored in an Int32Array.
fn squaredDifferenceI(x: i32, y: i32) -> i32 {
  let d = select(bitcast<u32>(y) - bitcast<u32>(x), bitcast<u32>(x) - bitcast<u32>(y), x >= y);
  let p = mulU64(d, d);
  return bitcast<i32>(roundLow32(p.x, p.y, 53u));
}

// Math.abs(x) through a Float32Array, as int32.
fn absI(x: i32) -> i32 {
  return bitcast<i32>(roundLow32(bitcast<u32>(abs(x)), 0u, 24u));
}

// x * x through a Float32Array, as int32.
fn squareI(x: i32) -> i32 {
  let a = bitcast<u32>(abs(x));
  let p = mulU64(a, a);
  return bitcast<i32>(roundLow32(p.x, p.y, 24u));
}
