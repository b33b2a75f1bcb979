#include "bandwidth.h"

#include <omp.h>
#include <string.h>

// Sixteen floats: one AVX-512 register under -march=native, two or four on narrower ISAs.
// aligned(4) because the arrays come from JavaScript with no alignment promise.
typedef float vec16 __attribute__((vector_size(64), aligned(4)));

// Each thread takes one contiguous slice, so every cache line is touched by one core only.
static void my_slice(size_t n, size_t* begin, size_t* end) {
  const size_t part = (size_t)omp_get_thread_num();
  const size_t parts = (size_t)omp_get_num_threads();
  *begin = n * part / parts;
  *end = n * (part + 1) / parts;
}

void bw_triad(float* restrict a, const float* restrict b, const float* restrict c, float s, size_t n,
              int threads) {
#pragma omp parallel num_threads(threads)
  {
    size_t begin, end;
    my_slice(n, &begin, &end);
    for (size_t i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
  }
}

void bw_copy(float* restrict dst, const float* restrict src, size_t n, int threads) {
#pragma omp parallel num_threads(threads)
  {
    size_t begin, end;
    my_slice(n, &begin, &end);
    for (size_t i = begin; i < end; ++i) dst[i] = src[i];
  }
}

double bw_sum(const float* a, size_t n, int threads) {
  double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    size_t begin, end;
    my_slice(n, &begin, &end);
    // Four independent accumulators hide the add latency, so the loop waits on memory only;
    // a single running sum would be latency-bound, not bandwidth-bound.
    vec16 acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0};
    size_t i = begin;
    for (; i + 64 <= end; i += 64) {
      acc0 += *(const vec16*)(a + i);
      acc1 += *(const vec16*)(a + i + 16);
      acc2 += *(const vec16*)(a + i + 32);
      acc3 += *(const vec16*)(a + i + 48);
    }
    vec16 acc = (acc0 + acc1) + (acc2 + acc3);
    float lanes[16];
    memcpy(lanes, &acc, sizeof lanes);
    double part = 0;
    for (int l = 0; l < 16; ++l) part += lanes[l];
    for (; i < end; ++i) part += a[i];
    total += part;
  }
  return total;
}
