// tfjs computes in JavaScript doubles and stores into typed arrays; these helpers give the
// same results so a native kernel matches tfjs-backend-cpu bit for bit where it matters.
#pragma once
#include <cmath>
#include <cstdint>

namespace tessera {

// ECMAScript ToInt32: what storing a double into an Int32Array does (NaN and ±Inf give 0,
// other values wrap modulo 2^32 after truncation).
inline int32_t JsToInt32(double v) {
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<int32_t>(t);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// Storing a number into a Uint8Array used for bool tensors.
inline uint8_t JsToBool(double v) { return (v != 0 && !std::isnan(v)) ? 1 : 0; }

template <typename T>
inline T FromDouble(double v);
template <>
inline float FromDouble<float>(double v) { return static_cast<float>(v); }
template <>
inline int32_t FromDouble<int32_t>(double v) { return JsToInt32(v); }
template <>
inline uint8_t FromDouble<uint8_t>(double v) { return static_cast<uint8_t>(JsToInt32(v)); }

}  // namespace tessera
