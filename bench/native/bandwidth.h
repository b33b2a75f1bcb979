// Memory-bandwidth probe: STREAM-style loops over caller-owned arrays, split over `threads`
// OpenMP threads. The caller times them; each touches exactly the bytes it names.
#ifndef TESSERA_BENCH_BANDWIDTH_H
#define TESSERA_BENCH_BANDWIDTH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// a = b + s * c: reads 8 B and writes 4 B per element.
void bw_triad(float* a, const float* b, const float* c, float s, size_t n, int threads);
// dst = src: reads 4 B and writes 4 B per element.
void bw_copy(float* dst, const float* src, size_t n, int threads);
// Sum of a: reads 4 B per element.
double bw_sum(const float* a, size_t n, int threads);

#ifdef __cplusplus
}
#endif

#endif
