// TopK as tfjs-backend-cpu's topKImpl computes it, reproduced step for step so that ties and
// NaN come out in the same order:
//   1. when k < n, Floyd-Rivest selection (its `select`) partitions the row's (value, index)
//      pairs so the first k are the top k, in the order the partitioning leaves them;
//   2. when `sorted`, Array.prototype.sort orders those k by comparePair.
// comparePair(a, b) is b.value - a.value, or a.index - b.index when that is 0. With NaN (or
// two equal infinities) the difference is NaN: `select` tests it with <, > and === (all
// false), and Array.prototype.sort reads it as 0. Since that is no consistent order, the
// result depends on the exact sequence of comparisons, so step 2 is V8's sort itself (a
// TimSort, as in V8's third_party/v8/builtins/array-sort.tq), not any stable sort.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/reduce.h"

namespace tessera {
namespace {

constexpr int64_t kParallelGrain = 1 << 14;

struct Entry {
  double value;
  int32_t index;
};

inline double ComparePair(const Entry& a, const Entry& b) {
  const double diff = b.value - a.value;
  return diff == 0 ? static_cast<double>(a.index - b.index) : diff;
}

double JsSign(double v) { return v > 0 ? 1 : v < 0 ? -1 : v; }

// tfjs's select(array, k, left, right): afterwards array[0..k) holds the top k.
void Select(Entry* a, int64_t size, int64_t k, int64_t left, int64_t right) {
  while (right > left) {
    if (right - left > 600) {
      // Recurse on a sample around k to pick a pivot close to the k-th element.
      const double n = static_cast<double>(right - left + 1);
      const double i = static_cast<double>(k - left + 1);
      const double z = std::log(n);
      const double s = 0.5 * std::exp(2 * z / 3);
      const double sd = 0.5 * std::sqrt(z * s * (n - s) / n) * JsSign(i - n / 2);
      const double new_left = std::max(static_cast<double>(left), std::floor(static_cast<double>(k) - i * s / n + sd));
      const double new_right =
          std::min(static_cast<double>(right), std::floor(static_cast<double>(k) + (n - i) * s / n + sd));
      Select(a, size, k, static_cast<int64_t>(new_left), static_cast<int64_t>(new_right));
    }
    const Entry t = a[k];
    int64_t i = left;
    int64_t j = right;
    std::swap(a[left], a[k]);
    if (ComparePair(a[right], t) > 0) std::swap(a[left], a[right]);
    while (i < j) {
      std::swap(a[i], a[j]);
      i++;
      j--;
      // The partition's sentinels stop both scans inside the range; the bounds only keep
      // memory safe.
      while (i < size && ComparePair(a[i], t) < 0) i++;
      while (j >= 0 && ComparePair(a[j], t) > 0) j--;
    }
    if (ComparePair(a[left], t) == 0) {
      std::swap(a[left], a[j]);
    } else {
      j++;
      std::swap(a[j], a[right]);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

// Array.prototype.sort(comparePair) as V8 runs it: binary insertion sort below 10 elements,
// TimSort (natural runs, minimum run length, galloping merges) above.
class V8Sort {
 public:
  V8Sort(Entry* a, int64_t n) : a_(a), n_(n) {}

  void Run() {
    if (n_ < 2) return;
    if (n_ < kMinTimSortLen) {
      BinaryInsertionSort(0, 0, n_);
      return;
    }
    int64_t low = 0;
    int64_t remaining = n_;
    const int64_t min_run = MinRunLength(n_);
    while (remaining != 0) {
      int64_t run = CountAndMakeRun(low, low + remaining);
      if (run < min_run) {
        const int64_t forced = std::min(min_run, remaining);
        BinaryInsertionSort(low, low + run, low + forced);
        run = forced;
      }
      runs_.push_back({low, run});
      MergeCollapse();
      low += run;
      remaining -= run;
    }
    MergeForceCollapse();
  }

 private:
  static constexpr int64_t kMinTimSortLen = 10;
  static constexpr int64_t kMinGallopWins = 7;

  struct PendingRun {
    int64_t base, length;
  };

  // The comparator's result as sort reads it: ToNumber, NaN read as +0.
  static double Compare(const Entry& x, const Entry& y) {
    const double v = ComparePair(x, y);
    return std::isnan(v) ? 0 : v;
  }

  static int64_t MinRunLength(int64_t n) {
    int64_t r = 0;
    while (n >= 64) {
      r |= n & 1;
      n >>= 1;
    }
    return n + r;
  }

  void BinaryInsertionSort(int64_t low, int64_t start, int64_t high) {
    if (start == low) start++;
    for (; start < high; start++) {
      int64_t left = low;
      int64_t right = start;
      const Entry pivot = a_[right];
      while (left < right) {
        const int64_t mid = left + ((right - left) >> 1);
        if (Compare(pivot, a_[mid]) < 0) {
          right = mid;
        } else {
          left = mid + 1;
        }
      }
      for (int64_t p = start; p > left; p--) a_[p] = a_[p - 1];
      a_[left] = pivot;
    }
  }

  // The run starting at low: ascending (a[i] <= a[i+1]) or strictly descending, reversed.
  int64_t CountAndMakeRun(int64_t low, int64_t high) {
    if (low + 1 == high) return 1;
    int64_t length = 2;
    const bool descending = Compare(a_[low + 1], a_[low]) < 0;
    Entry previous = a_[low + 1];
    for (int64_t i = low + 2; i < high; i++) {
      const double order = Compare(a_[i], previous);
      if (descending ? order >= 0 : order < 0) break;
      previous = a_[i];
      length++;
    }
    if (descending) std::reverse(a_ + low, a_ + low + length);
    return length;
  }

  bool RunInvariantEstablished(int64_t n) const {
    if (n < 2) return true;
    return runs_[n - 2].length > runs_[n - 1].length + runs_[n].length;
  }

  void MergeCollapse() {
    while (runs_.size() > 1) {
      int64_t n = static_cast<int64_t>(runs_.size()) - 2;
      if (!RunInvariantEstablished(n + 1) || !RunInvariantEstablished(n)) {
        if (runs_[n - 1].length < runs_[n + 1].length) n--;
        MergeAt(n);
      } else if (runs_[n].length <= runs_[n + 1].length) {
        MergeAt(n);
      } else {
        break;
      }
    }
  }

  void MergeForceCollapse() {
    while (runs_.size() > 1) {
      int64_t n = static_cast<int64_t>(runs_.size()) - 2;
      if (n > 0 && runs_[n - 1].length < runs_[n + 1].length) n--;
      MergeAt(n);
    }
  }

  void MergeAt(int64_t i) {
    int64_t base_a = runs_[i].base, length_a = runs_[i].length;
    const int64_t base_b = runs_[i + 1].base;
    int64_t length_b = runs_[i + 1].length;
    runs_[i].length = length_a + length_b;
    runs_.erase(runs_.begin() + i + 1);

    const int64_t k = GallopRight(a_, a_[base_b], base_a, length_a, 0);
    base_a += k;
    length_a -= k;
    if (length_a == 0) return;
    length_b = GallopLeft(a_, a_[base_a + length_a - 1], base_b, length_b, length_b - 1);
    if (length_b == 0) return;
    if (length_a <= length_b) {
      MergeLow(base_a, length_a, base_b, length_b);
    } else {
      MergeHigh(base_a, length_a, base_b, length_b);
    }
  }

  // The offset in [0, length] where key goes before any equal elements of array[base..).
  static int64_t GallopLeft(const Entry* array, const Entry key, int64_t base, int64_t length, int64_t hint) {
    int64_t last = 0;
    int64_t offset = 1;
    if (Compare(array[base + hint], key) < 0) {
      const int64_t max_offset = length - hint;
      while (offset < max_offset) {
        if (Compare(array[base + hint + offset], key) >= 0) break;
        last = offset;
        offset = (offset << 1) + 1;
      }
      offset = std::min(offset, max_offset);
      last += hint;
      offset += hint;
    } else {
      const int64_t max_offset = hint + 1;
      while (offset < max_offset) {
        if (Compare(array[base + hint - offset], key) < 0) break;
        last = offset;
        offset = (offset << 1) + 1;
      }
      offset = std::min(offset, max_offset);
      const int64_t tmp = last;
      last = hint - offset;
      offset = hint - tmp;
    }
    last++;
    while (last < offset) {
      const int64_t m = last + ((offset - last) >> 1);
      if (Compare(array[base + m], key) < 0) {
        last = m + 1;
      } else {
        offset = m;
      }
    }
    return offset;
  }

  // The offset in [0, length] where key goes after any equal elements of array[base..).
  static int64_t GallopRight(const Entry* array, const Entry key, int64_t base, int64_t length, int64_t hint) {
    int64_t last = 0;
    int64_t offset = 1;
    if (Compare(key, array[base + hint]) < 0) {
      const int64_t max_offset = hint + 1;
      while (offset < max_offset) {
        if (Compare(key, array[base + hint - offset]) >= 0) break;
        last = offset;
        offset = (offset << 1) + 1;
      }
      offset = std::min(offset, max_offset);
      const int64_t tmp = last;
      last = hint - offset;
      offset = hint - tmp;
    } else {
      const int64_t max_offset = length - hint;
      while (offset < max_offset) {
        if (Compare(key, array[base + hint + offset]) < 0) break;
        last = offset;
        offset = (offset << 1) + 1;
      }
      offset = std::min(offset, max_offset);
      last += hint;
      offset += hint;
    }
    last++;
    while (last < offset) {
      const int64_t m = last + ((offset - last) >> 1);
      if (Compare(key, array[base + m]) < 0) {
        offset = m;
      } else {
        last = m + 1;
      }
    }
    return offset;
  }

  // Copies n entries; overlapping ranges copy from the far end first, as V8's Copy does.
  static void Copy(const Entry* src, int64_t src_pos, Entry* dst, int64_t dst_pos, int64_t n) {
    if (src == dst && src_pos < dst_pos) {
      std::copy_backward(src + src_pos, src + src_pos + n, dst + dst_pos + n);
    } else {
      std::copy(src + src_pos, src + src_pos + n, dst + dst_pos);
    }
  }

  // Merges run A (shorter) into run B from the left, through a copy of A.
  void MergeLow(int64_t base_a, int64_t length_a, int64_t base_b, int64_t length_b) {
    temp_.assign(a_ + base_a, a_ + base_a + length_a);
    Entry* temp = temp_.data();
    int64_t dest = base_a;
    int64_t cursor_temp = 0;
    int64_t cursor_b = base_b;
    a_[dest++] = a_[cursor_b++];
    bool copy_b = false;
    if (--length_b == 0) {
    } else if (length_a == 1) {
      copy_b = true;
    } else {
      int64_t min_gallop = min_gallop_;
      for (;;) {
        int64_t wins_a = 0;
        int64_t wins_b = 0;
        bool done = false;
        for (;;) {
          if (Compare(a_[cursor_b], temp[cursor_temp]) < 0) {
            a_[dest++] = a_[cursor_b++];
            wins_b++;
            length_b--;
            wins_a = 0;
            if (length_b == 0) {
              done = true;
              break;
            }
            if (wins_b >= min_gallop) break;
          } else {
            a_[dest++] = temp[cursor_temp++];
            wins_a++;
            length_a--;
            wins_b = 0;
            if (length_a == 1) {
              copy_b = done = true;
              break;
            }
            if (wins_a >= min_gallop) break;
          }
        }
        if (done) break;
        min_gallop++;
        bool first = true;
        while (wins_a >= kMinGallopWins || wins_b >= kMinGallopWins || first) {
          first = false;
          min_gallop = std::max<int64_t>(1, min_gallop - 1);
          min_gallop_ = min_gallop;
          wins_a = GallopRight(temp, a_[cursor_b], cursor_temp, length_a, 0);
          if (wins_a > 0) {
            Copy(temp, cursor_temp, a_, dest, wins_a);
            dest += wins_a;
            cursor_temp += wins_a;
            length_a -= wins_a;
            if (length_a == 1) {
              copy_b = done = true;
              break;
            }
            // Impossible for a consistent comparator; comparePair with NaN is not one.
            if (length_a == 0) {
              done = true;
              break;
            }
          }
          a_[dest++] = a_[cursor_b++];
          if (--length_b == 0) {
            done = true;
            break;
          }
          wins_b = GallopLeft(a_, temp[cursor_temp], cursor_b, length_b, 0);
          if (wins_b > 0) {
            Copy(a_, cursor_b, a_, dest, wins_b);
            dest += wins_b;
            cursor_b += wins_b;
            length_b -= wins_b;
            if (length_b == 0) {
              done = true;
              break;
            }
          }
          a_[dest++] = temp[cursor_temp++];
          if (--length_a == 1) {
            copy_b = done = true;
            break;
          }
        }
        if (done) break;
        min_gallop++;
        min_gallop_ = min_gallop;
      }
    }
    if (copy_b) {
      // The last element of run A belongs at the end of the merge.
      Copy(a_, cursor_b, a_, dest, length_b);
      a_[dest + length_b] = temp[cursor_temp];
    } else if (length_a > 0) {
      Copy(temp, cursor_temp, a_, dest, length_a);
    }
  }

  // Merges run B (shorter) into run A from the right, through a copy of B.
  void MergeHigh(int64_t base_a, int64_t length_a, int64_t base_b, int64_t length_b) {
    temp_.assign(a_ + base_b, a_ + base_b + length_b);
    Entry* temp = temp_.data();
    int64_t dest = base_b + length_b - 1;
    int64_t cursor_temp = length_b - 1;
    int64_t cursor_a = base_a + length_a - 1;
    a_[dest--] = a_[cursor_a--];
    bool copy_a = false;
    if (--length_a == 0) {
    } else if (length_b == 1) {
      copy_a = true;
    } else {
      int64_t min_gallop = min_gallop_;
      for (;;) {
        int64_t wins_a = 0;
        int64_t wins_b = 0;
        bool done = false;
        for (;;) {
          if (Compare(temp[cursor_temp], a_[cursor_a]) < 0) {
            a_[dest--] = a_[cursor_a--];
            wins_a++;
            length_a--;
            wins_b = 0;
            if (length_a == 0) {
              done = true;
              break;
            }
            if (wins_a >= min_gallop) break;
          } else {
            a_[dest--] = temp[cursor_temp--];
            wins_b++;
            length_b--;
            wins_a = 0;
            if (length_b == 1) {
              copy_a = done = true;
              break;
            }
            if (wins_b >= min_gallop) break;
          }
        }
        if (done) break;
        min_gallop++;
        bool first = true;
        while (wins_a >= kMinGallopWins || wins_b >= kMinGallopWins || first) {
          first = false;
          min_gallop = std::max<int64_t>(1, min_gallop - 1);
          min_gallop_ = min_gallop;
          int64_t k = GallopRight(a_, temp[cursor_temp], base_a, length_a, length_a - 1);
          wins_a = length_a - k;
          if (wins_a > 0) {
            dest -= wins_a;
            cursor_a -= wins_a;
            Copy(a_, cursor_a + 1, a_, dest + 1, wins_a);
            length_a -= wins_a;
            if (length_a == 0) {
              done = true;
              break;
            }
          }
          a_[dest--] = temp[cursor_temp--];
          if (--length_b == 1) {
            copy_a = done = true;
            break;
          }
          k = GallopLeft(temp, a_[cursor_a], 0, length_b, length_b - 1);
          wins_b = length_b - k;
          if (wins_b > 0) {
            dest -= wins_b;
            cursor_temp -= wins_b;
            Copy(temp, cursor_temp + 1, a_, dest + 1, wins_b);
            length_b -= wins_b;
            if (length_b == 1) {
              copy_a = done = true;
              break;
            }
            // Impossible for a consistent comparator; comparePair with NaN is not one.
            if (length_b == 0) {
              done = true;
              break;
            }
          }
          a_[dest--] = a_[cursor_a--];
          if (--length_a == 0) {
            done = true;
            break;
          }
        }
        if (done) break;
        min_gallop++;
        min_gallop_ = min_gallop;
      }
    }
    if (copy_a) {
      // The first element of run B belongs at the front of the merge.
      dest -= length_a;
      cursor_a -= length_a;
      Copy(a_, cursor_a + 1, a_, dest + 1, length_a);
      a_[dest] = temp[cursor_temp];
    } else if (length_b > 0) {
      Copy(temp, 0, a_, dest - (length_b - 1), length_b);
    }
  }

  Entry* a_;
  int64_t n_;
  int64_t min_gallop_ = kMinGallopWins;
  std::vector<PendingRun> runs_;
  std::vector<Entry> temp_;
};

template <typename T>
bool IsTotallyOrdered(const T* x, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    bool finite = true;
    for (int64_t i = 0; i < n; i++) finite &= (x[i] - x[i]) == 0;
    return finite;
  } else {
    return true;
  }
}

template <typename T>
void TopKTyped(const T* x, int64_t rows, int64_t cols, int64_t k, bool sorted, T* values, int32_t* indices) {
  ParallelFor(rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)), [&](int64_t b, int64_t e) {
    std::vector<Entry> entries(cols);
    for (int64_t row = b; row < e; row++) {
      const T* in = x + row * cols;
      for (int64_t i = 0; i < cols; i++) entries[i] = {static_cast<double>(in[i]), static_cast<int32_t>(i)};
      if (sorted && IsTotallyOrdered(in, cols)) {
        // Without NaN or infinities comparePair is a strict total order (value descending,
        // then index), so the sorted top k are unique and a heap selection finds the same.
        std::partial_sort(entries.begin(), entries.begin() + k, entries.end(), [](const Entry& a, const Entry& b) {
          return a.value > b.value || (a.value == b.value && a.index < b.index);
        });
      } else {
        if (k < cols) Select(entries.data(), cols, k, 0, cols - 1);
        if (sorted) V8Sort(entries.data(), k).Run();
      }
      for (int64_t i = 0; i < k; i++) {
        values[row * k + i] = static_cast<T>(entries[i].value);
        indices[row * k + i] = entries[i].index;
      }
    }
  });
}

// The definition for rows whose order is consistent: a stable sort of the whole row by value
// descending, index ascending. It agrees with TopK where the row has no NaN and no repeated
// infinity (the cases where tfjs's order depends on its algorithm's comparison sequence).
template <typename T>
void TopKRefTyped(const T* x, int64_t rows, int64_t cols, int64_t k, T* values, int32_t* indices) {
  std::vector<int32_t> order(cols);
  for (int64_t row = 0; row < rows; row++) {
    const T* in = x + row * cols;
    for (int64_t i = 0; i < cols; i++) order[i] = static_cast<int32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return in[a] > in[b]; });
    for (int64_t i = 0; i < k; i++) {
      values[row * k + i] = in[order[i]];
      indices[row * k + i] = order[i];
    }
  }
}

}  // namespace

void TopK(DType in, const void* x, int64_t rows, int64_t cols, int64_t k, bool sorted, void* values,
          int32_t* indices) {
  if (rows == 0 || k == 0) return;
  switch (in) {
    case DType::kFloat32:
      TopKTyped(static_cast<const float*>(x), rows, cols, k, sorted, static_cast<float*>(values), indices);
      break;
    case DType::kInt32:
      TopKTyped(static_cast<const int32_t*>(x), rows, cols, k, sorted, static_cast<int32_t*>(values), indices);
      break;
    case DType::kBool:
      TopKTyped(static_cast<const uint8_t*>(x), rows, cols, k, sorted, static_cast<uint8_t*>(values), indices);
      break;
  }
}

void TopKRef(DType in, const void* x, int64_t rows, int64_t cols, int64_t k, bool, void* values,
             int32_t* indices) {
  switch (in) {
    case DType::kFloat32:
      TopKRefTyped(static_cast<const float*>(x), rows, cols, k, static_cast<float*>(values), indices);
      break;
    case DType::kInt32:
      TopKRefTyped(static_cast<const int32_t*>(x), rows, cols, k, static_cast<int32_t*>(values), indices);
      break;
    case DType::kBool:
      TopKRefTyped(static_cast<const uint8_t*>(x), rows, cols, k, static_cast<uint8_t*>(values), indices);
      break;
  }
}

}  // namespace tessera
