#include "cpu/layout.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/isa.h"
#include "cpu/js_numeric.h"

#if TESSERA_X86
#include <immintrin.h>
#endif

namespace tessera {
namespace {

// Bytes one thread should move before another thread pays for itself: waking the pool costs
// a few microseconds, about what a 64 KiB memcpy takes.
constexpr int64_t kParallelBytes = 1 << 16;
// Contiguous runs longer than this are cut into pieces of this size so that a few long runs
// (a concat along axis 0, a slice of whole rows) still spread over the pool.
constexpr int64_t kRunPieceBytes = 1 << 16;
// Side of a transpose tile in elements: 128-byte rows of 4-byte elements (two cache lines),
// 64-byte rows of bytes; either way a tile is 4 KiB and two of them sit in L1.
template <typename T>
constexpr int64_t kTile = sizeof(T) == 1 ? 64 : 32;

void CheckLength(const char* op, const char* arg, int64_t expected, int64_t got) {
  if (expected != got) ThrowArgError(op, arg, std::to_string(expected) + " elements", std::to_string(got));
}

void CheckRankOf(const char* op, const char* arg, size_t got, size_t rank) {
  if (got != rank) ThrowArgError(op, arg, std::to_string(rank) + " entries (one per dimension)", std::to_string(got));
}

int64_t Product(const Shape& shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; i++) n *= shape[i];
  return n;
}

// ---------------------------------------------------------------------------------------
// The strided copy engine. Every kernel except concat/split/gather describes its work as
// one or more copies of a box of elements: the element at index vector i is read at
// src_offset + sum(i[d] * src[d]) and written at dst_offset + sum(i[d] * dst[d]) (element
// units; source strides may be negative or zero).

struct CopyDims {
  Shape shape;
  std::vector<int64_t> src, dst;
  int64_t src_offset = 0, dst_offset = 0;
};

// Drops unit dimensions and merges neighbours that stay contiguous with each other on both
// sides, so most copies become a short loop nest over long runs.
CopyDims Simplify(const CopyDims& in) {
  CopyDims out;
  out.src_offset = in.src_offset;
  out.dst_offset = in.dst_offset;
  for (size_t i = 0; i < in.shape.size(); i++) {
    const int64_t n = in.shape[i];
    if (n == 1) continue;
    if (!out.shape.empty()) {
      const size_t k = out.shape.size() - 1;
      if (out.src[k] == in.src[i] * n && out.dst[k] == in.dst[i] * n) {
        out.shape[k] *= n;
        out.src[k] = in.src[i];
        out.dst[k] = in.dst[i];
        continue;
      }
    }
    out.shape.push_back(n);
    out.src.push_back(in.src[i]);
    out.dst.push_back(in.dst[i]);
  }
  return out;
}

// The kernels compute their boxes from validated arguments; this guards the buffers against
// any mistake in that arithmetic all the same.
void CheckExtent(const char* side, int64_t offset, const Shape& shape, const std::vector<int64_t>& strides,
                 int64_t length) {
  int64_t lo = offset, hi = offset;
  for (size_t d = 0; d < shape.size(); d++) {
    const int64_t span = (shape[d] - 1) * strides[d];
    (span < 0 ? lo : hi) += span;
  }
  if (lo < 0 || hi >= length) {
    throw Error(std::string("layout: internal error: ") + side + " elements [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "] outside a buffer of " + std::to_string(length));
  }
}

// Walks a set of outer dimensions in row-major order from a flat position, keeping the source
// and destination offsets up to date incrementally (no division per step).
class Walker {
 public:
  Walker(const CopyDims& dims, int64_t start) : dims_(dims), index_(dims.shape.size(), 0) {
    src_ = dims.src_offset;
    dst_ = dims.dst_offset;
    int64_t rem = start;
    for (size_t d = dims.shape.size(); d-- > 0;) {
      index_[d] = rem % dims.shape[d];
      rem /= dims.shape[d];
      src_ += index_[d] * dims.src[d];
      dst_ += index_[d] * dims.dst[d];
    }
  }
  int64_t src() const { return src_; }
  int64_t dst() const { return dst_; }
  void Next() {
    for (size_t d = dims_.shape.size(); d-- > 0;) {
      src_ += dims_.src[d];
      dst_ += dims_.dst[d];
      if (++index_[d] < dims_.shape[d]) return;
      src_ -= dims_.src[d] * dims_.shape[d];
      dst_ -= dims_.dst[d] * dims_.shape[d];
      index_[d] = 0;
    }
  }

 private:
  const CopyDims& dims_;
  std::vector<int64_t> index_;
  int64_t src_, dst_;
};

// The dimensions of `p` other than those listed in `skip`, with p's offsets.
CopyDims OuterDims(const CopyDims& p, int skip_a, int skip_b) {
  CopyDims outer;
  outer.src_offset = p.src_offset;
  outer.dst_offset = p.dst_offset;
  for (int d = 0; d < static_cast<int>(p.shape.size()); d++) {
    if (d == skip_a || d == skip_b) continue;
    outer.shape.push_back(p.shape[d]);
    outer.src.push_back(p.src[d]);
    outer.dst.push_back(p.dst[d]);
  }
  return outer;
}

template <typename T>
void FillRun(T* d, int64_t count, T value) {
  for (int64_t i = 0; i < count; i++) d[i] = value;
}

// A run of `count` elements along one dimension with strides ss (source) and ds (destination).
template <typename T>
inline void CopyRun(const T* s, int64_t ss, T* d, int64_t ds, int64_t count) {
  if (ss == 1 && ds == 1) {
    std::memcpy(d, s, static_cast<size_t>(count) * sizeof(T));
  } else if (ss == 0 && ds == 1) {
    FillRun(d, count, *s);
  } else if (ds == 1) {
    for (int64_t i = 0; i < count; i++) d[i] = s[i * ss];
  } else {
    for (int64_t i = 0; i < count; i++) d[i * ds] = s[i * ss];
  }
}

// d[j * dj + k] = s[j + k * sk] for j < nj, k < nk: a tile small enough for L1.
template <typename T>
inline void TransposeTile(const T* s, int64_t sk, T* d, int64_t dj, int64_t nj, int64_t nk) {
  int64_t j0 = 0, k0 = 0;
#if TESSERA_X86
  if constexpr (sizeof(T) == 4) {
    // 4x4 blocks through SSE registers (baseline x86-64). Shuffles move bits unchanged, so
    // int32 data and NaN payloads go through the float registers intact.
    const int64_t nj4 = nj & ~int64_t{3}, nk4 = nk & ~int64_t{3};
    for (int64_t j = 0; j < nj4; j += 4) {
      for (int64_t k = 0; k < nk4; k += 4) {
        const float* sp = reinterpret_cast<const float*>(s + j + k * sk);
        __m128 r0 = _mm_loadu_ps(sp);
        __m128 r1 = _mm_loadu_ps(sp + sk);
        __m128 r2 = _mm_loadu_ps(sp + 2 * sk);
        __m128 r3 = _mm_loadu_ps(sp + 3 * sk);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        float* dp = reinterpret_cast<float*>(d + j * dj + k);
        _mm_storeu_ps(dp, r0);
        _mm_storeu_ps(dp + dj, r1);
        _mm_storeu_ps(dp + 2 * dj, r2);
        _mm_storeu_ps(dp + 3 * dj, r3);
      }
    }
    // The ragged right and bottom edges go through the scalar loops below.
    for (int64_t j = 0; j < nj4; j++) {
      for (int64_t k = nk4; k < nk; k++) d[j * dj + k] = s[j + k * sk];
    }
    j0 = nj4;
    k0 = 0;
  }
#endif
  for (int64_t j = j0; j < nj; j++) {
    for (int64_t k = k0; k < nk; k++) d[j * dj + k] = s[j + k * sk];
  }
}

// A full tile through two packed buffers, for matrices whose rows crowd into a few L1 sets
// (see CrowdsL1): walking such a tile in place evicts lines before their other elements are
// used (2048x2048 ran at half the speed of 2000x2000). Here every global read and write is a
// whole row of the tile, and the transposition itself runs on the packed copies.
template <typename T>
inline void TransposeFullTile(const T* s, int64_t sk, T* d, int64_t dj) {
  constexpr int64_t n = kTile<T>;
  alignas(64) T in[n * n];
  alignas(64) T out[n * n];
  for (int64_t k = 0; k < n; k++) std::memcpy(in + k * n, s + k * sk, n * sizeof(T));
  TransposeTile(in, n, out, n, n, n);
  for (int64_t j = 0; j < n; j++) std::memcpy(d + j * dj, out + j * n, n * sizeof(T));
}

// Whether `rows` rows `stride_bytes` apart fall into so few L1 sets (64-byte lines, sets
// repeating every 4 KiB) that a tile's lines cannot all stay: true for strides at or near a
// multiple of 4 KiB, such as every power-of-two matrix width from 1024 floats up.
bool CrowdsL1(int64_t stride_bytes, int64_t rows) {
  constexpr int64_t kSets = 64, kLine = 64, kMostPerSet = 4, kPeriod = kSets * kLine;
  int64_t per_set[kSets] = {};
  for (int64_t r = 0; r < rows; r++) {
    const int64_t set = (((r * stride_bytes) % kPeriod + kPeriod) % kPeriod) / kLine;
    if (++per_set[set] > kMostPerSet) return true;
  }
  return false;
}

// A copy whose innermost destination dimension (k) reads the source with a stride while
// another dimension (j) reads it contiguously: a batch of 2-D transposes, done in tiles so
// that both sides move whole cache lines. Work is handed out in blocks of one tile row by
// kBand elements so that a single large matrix still spreads over the pool.
template <typename T>
void RunTransposed(const T* src, T* dst, const CopyDims& p, int j) {
  constexpr int64_t tile = kTile<T>;
  constexpr int64_t kBand = 8 * tile;
  const int k = static_cast<int>(p.shape.size()) - 1;
  const int64_t nj = p.shape[j], nk = p.shape[k];
  const int64_t sk = p.src[k], dj = p.dst[j];
  const CopyDims outer = OuterDims(p, j, k);
  const int64_t strips = (nj + tile - 1) / tile, bands = (nk + kBand - 1) / kBand;
  const int64_t per_outer = strips * bands;
  const int64_t block_bytes = tile * std::min(nk, kBand) * static_cast<int64_t>(sizeof(T));
  const bool packed = CrowdsL1(sk * static_cast<int64_t>(sizeof(T)), tile) || CrowdsL1(dj * static_cast<int64_t>(sizeof(T)), tile);
  ParallelFor(ShapeSize(outer.shape) * per_outer, std::max<int64_t>(1, kParallelBytes / block_bytes),
              [&](int64_t begin, int64_t end) {
    Walker walk(outer, begin / per_outer);
    int64_t within = begin % per_outer;
    for (int64_t u = begin; u < end; u++) {
      const int64_t j0 = (within / bands) * tile, band0 = (within % bands) * kBand;
      const int64_t bj = std::min(tile, nj - j0), band_end = std::min(nk, band0 + kBand);
      const T* s = src + walk.src() + j0;
      T* d = dst + walk.dst() + j0 * dj;
      for (int64_t k0 = band0; k0 < band_end; k0 += tile) {
        const int64_t bk = std::min(tile, band_end - k0);
        if (packed && bj == tile && bk == tile) TransposeFullTile(s + k0 * sk, sk, d + k0, dj);
        else TransposeTile(s + k0 * sk, sk, d + k0, dj, bj, bk);
      }
      if (++within == per_outer) {
        within = 0;
        walk.Next();
      }
    }
  });
}

template <typename T>
void RunCopy(const T* src, T* dst, const CopyDims& p) {
  const int rank = static_cast<int>(p.shape.size());
  if (rank == 0) {
    dst[p.dst_offset] = src[p.src_offset];
    return;
  }
  const int inner = rank - 1;
  const int64_t n = p.shape[inner];
  const int64_t ss = p.src[inner], ds = p.dst[inner];
  if (ds == 1 && ss != 1 && ss != 0) {
    for (int j = inner - 1; j >= 0; j--) {
      if (p.src[j] == 1) {
        RunTransposed(src, dst, p, j);
        return;
      }
    }
  }
  const CopyDims outer = OuterDims(p, inner, inner);
  const int64_t rows = ShapeSize(outer.shape);
  const int64_t run_bytes = n * static_cast<int64_t>(sizeof(T));
  if (run_bytes > kRunPieceBytes) {
    const int64_t piece = kRunPieceBytes / static_cast<int64_t>(sizeof(T));
    const int64_t pieces = (n + piece - 1) / piece;
    ParallelFor(rows * pieces, 1, [&](int64_t begin, int64_t end) {
      Walker walk(outer, begin / pieces);
      int64_t at = begin % pieces;
      for (int64_t u = begin; u < end; u++) {
        const int64_t first = at * piece;
        CopyRun(src + walk.src() + first * ss, ss, dst + walk.dst() + first * ds, ds, std::min(piece, n - first));
        if (++at == pieces) {
          at = 0;
          walk.Next();
        }
      }
    });
  } else {
    ParallelFor(rows, std::max<int64_t>(1, kParallelBytes / run_bytes), [&](int64_t begin, int64_t end) {
      Walker walk(outer, begin);
      for (int64_t row = begin; row < end; row++) {
        CopyRun(src + walk.src(), ss, dst + walk.dst(), ds, n);
        walk.Next();
      }
    });
  }
}

void Copy(DType dtype, const void* src, int64_t src_length, void* dst, int64_t dst_length, const CopyDims& box) {
  if (ShapeSize(box.shape) == 0) return;
  CheckExtent("source", box.src_offset, box.shape, box.src, src_length);
  CheckExtent("destination", box.dst_offset, box.shape, box.dst, dst_length);
  const CopyDims p = Simplify(box);
  if (DTypeSize(dtype) == 1) {
    RunCopy(static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), p);
  } else {
    RunCopy(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), p);
  }
}

// The bits a typed-array store of `value` leaves in an element of `dtype`.
uint32_t ElementBits(DType dtype, double value) {
  switch (dtype) {
    case DType::kFloat32: {
      const float f = static_cast<float>(value);
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      return bits;
    }
    case DType::kInt32: return static_cast<uint32_t>(JsToInt32(value));
    case DType::kBool: return FromDouble<uint8_t>(value);
  }
  return 0;
}

void Fill(DType dtype, void* dst, int64_t count, double value) {
  const uint32_t bits = ElementBits(dtype, value);
  const int64_t size = static_cast<int64_t>(DTypeSize(dtype));
  ParallelFor(count, kParallelBytes / size, [&](int64_t begin, int64_t end) {
    if (size == 1) {
      std::memset(static_cast<uint8_t*>(dst) + begin, static_cast<int>(bits), static_cast<size_t>(end - begin));
    } else {
      FillRun(static_cast<uint32_t*>(dst) + begin, end - begin, bits);
    }
  });
}

CopyDims ContiguousBox(const Shape& shape) {
  CopyDims box;
  box.shape = shape;
  box.src = RowMajorStrides(shape);
  box.dst = box.src;
  return box;
}

void CheckPermutation(const char* op, const std::vector<int64_t>& perm, size_t rank) {
  CheckRankOf(op, "perm", perm.size(), rank);
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) {
      ThrowArgError(op, "perm", "a permutation of 0.." + std::to_string(static_cast<int64_t>(rank) - 1),
                    ShapeToString(perm));
    }
    seen[p] = true;
  }
}

void CheckAxis(const char* op, const char* arg, int64_t axis, size_t rank) {
  if (axis < 0 || axis >= static_cast<int64_t>(rank)) {
    ThrowArgError(op, arg, "an axis in [0, " + std::to_string(rank) + ")", std::to_string(axis));
  }
}

void CheckSlice(const char* op, const Shape& x_shape, const std::vector<int64_t>& begin,
                const std::vector<int64_t>& strides, const Shape& size) {
  CheckRankOf(op, "begin", begin.size(), x_shape.size());
  CheckRankOf(op, "strides", strides.size(), x_shape.size());
  CheckRankOf(op, "size", size.size(), x_shape.size());
  if (ShapeSize(size) == 0) return;
  for (size_t d = 0; d < x_shape.size(); d++) {
    const int64_t last = begin[d] + (size[d] - 1) * strides[d];
    if (begin[d] < 0 || begin[d] >= x_shape[d] || last < 0 || last >= x_shape[d]) {
      ThrowArgError(op, "begin", "a slice inside the input in dimension " + std::to_string(d) + " (size " +
                    std::to_string(x_shape[d]) + ")", "begin " + std::to_string(begin[d]) + ", stride " +
                    std::to_string(strides[d]) + ", " + std::to_string(size[d]) + " elements");
    }
  }
}

void CheckPads(const char* op, const Shape& x_shape, const std::vector<int64_t>& before,
               const std::vector<int64_t>& after, int64_t slack) {
  CheckRankOf(op, "paddings", before.size(), x_shape.size());
  CheckRankOf(op, "paddings", after.size(), x_shape.size());
  for (size_t d = 0; d < x_shape.size(); d++) {
    const int64_t most = slack < 0 ? INT64_MAX : x_shape[d] - slack;
    for (int64_t p : {before[d], after[d]}) {
      if (p < 0 || p > most) {
        ThrowArgError(op, "paddings", "paddings in [0, " + (slack < 0 ? std::string("inf") : std::to_string(most)) +
                      "] for dimension " + std::to_string(d), std::to_string(p));
      }
    }
  }
}

Shape PaddedShape(const Shape& x_shape, const std::vector<int64_t>& before, const std::vector<int64_t>& after) {
  Shape out(x_shape.size());
  for (size_t d = 0; d < x_shape.size(); d++) out[d] = before[d] + x_shape[d] + after[d];
  return out;
}

// Concat and Split share this: the sizes along `axis` of the pieces, checked against the
// whole's shape, and the row decomposition (outer rows of inner-sized pieces).
struct Rows {
  int64_t outer;
  std::vector<int64_t> piece_inner;  // elements of each piece in one row
  int64_t row_inner;                 // elements of the whole in one row
};

Rows RowsOf(const Shape& whole, int64_t axis, const std::vector<int64_t>& axis_sizes) {
  Rows r;
  r.outer = Product(whole, 0, axis);
  const int64_t after = Product(whole, axis + 1, whole.size());
  r.row_inner = whole[axis] * after;
  for (int64_t s : axis_sizes) r.piece_inner.push_back(s * after);
  return r;
}

// Moves each row's pieces between the whole (rows of row_inner elements) and the pieces
// (rows of piece_inner[k]): into the whole for Concat, out of it for Split.
template <bool kToWhole>
void MoveRows(size_t element_size, const Rows& r, std::conditional_t<kToWhole, uint8_t*, const uint8_t*> whole,
              const std::vector<std::conditional_t<kToWhole, const uint8_t*, uint8_t*>>& pieces) {
  auto move = [](auto* piece, auto* w, int64_t bytes) {
    if constexpr (kToWhole) std::memcpy(w, piece, static_cast<size_t>(bytes));
    else std::memcpy(piece, w, static_cast<size_t>(bytes));
  };
  const int64_t es = static_cast<int64_t>(element_size);
  const int64_t row_bytes = r.row_inner * es;
  if (row_bytes == 0 || r.outer == 0) return;
  if (r.outer == 1) {
    // One row: each piece is a single run, long enough on its own to split across threads.
    int64_t at = 0;
    for (size_t k = 0; k < pieces.size(); k++) {
      const int64_t bytes = r.piece_inner[k] * es;
      ParallelFor(bytes, kRunPieceBytes, [&](int64_t begin, int64_t end) {
        move(pieces[k] + begin, whole + at + begin, end - begin);
      });
      at += bytes;
    }
    return;
  }
  ParallelFor(r.outer, std::max<int64_t>(1, kParallelBytes / row_bytes), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      auto* w = whole + row * row_bytes;
      for (size_t k = 0; k < pieces.size(); k++) {
        const int64_t bytes = r.piece_inner[k] * es;
        move(pieces[k] + row * bytes, w, bytes);
        w += bytes;
      }
    }
  });
}

void CheckConcat(const std::vector<ConstBuffer>& xs, const std::vector<Shape>& shapes, int64_t axis) {
  if (xs.empty()) ThrowArgError("concat", "xs", "at least one tensor", "none");
  CheckLength("concat", "shapes", static_cast<int64_t>(xs.size()), static_cast<int64_t>(shapes.size()));
  const Shape& first = shapes[0];
  CheckAxis("concat", "axis", axis, first.size());
  for (size_t k = 0; k < xs.size(); k++) {
    const std::string arg = "xs[" + std::to_string(k) + "]";
    bool same = shapes[k].size() == first.size();
    for (size_t d = 0; same && d < first.size(); d++) same = d == static_cast<size_t>(axis) || shapes[k][d] == first[d];
    if (!same) {
      ThrowArgError("concat", arg, "a shape matching " + ShapeToString(first) + " except in axis " + std::to_string(axis),
                    ShapeToString(shapes[k]));
    }
    CheckLength("concat", arg.c_str(), ShapeSize(shapes[k]), xs[k].length);
  }
}

Shape ConcatShape(const std::vector<Shape>& shapes, int64_t axis) {
  Shape out = shapes[0];
  out[axis] = 0;
  for (const Shape& s : shapes) out[axis] += s[axis];
  return out;
}

void CheckSplit(const Shape& x_shape, ConstBuffer x, int64_t axis, const std::vector<int64_t>& sizes,
                const std::vector<MutBuffer>& outs) {
  CheckLength("split", "x", ShapeSize(x_shape), x.length);
  CheckAxis("split", "axis", axis, x_shape.size());
  CheckLength("split", "outs", static_cast<int64_t>(sizes.size()), static_cast<int64_t>(outs.size()));
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) ThrowArgError("split", "sizes", "non-negative sizes", ShapeToString(sizes));
    total += s;
  }
  if (total != x_shape[axis]) {
    ThrowArgError("split", "sizes", "sizes adding up to " + std::to_string(x_shape[axis]), ShapeToString(sizes));
  }
  const int64_t rest = Product(x_shape, 0, axis) * Product(x_shape, axis + 1, x_shape.size());
  for (size_t k = 0; k < outs.size(); k++) {
    const std::string arg = "outs[" + std::to_string(k) + "]";
    CheckLength("split", arg.c_str(), sizes[k] * rest, outs[k].length);
  }
}

struct GatherDims {
  int64_t batch, outer, dim, slice, per_batch;
};

GatherDims CheckGather(const Shape& x_shape, ConstBuffer x, const int32_t* indices, const Shape& indices_shape,
                       int64_t axis, int64_t batch_dims, MutBuffer out) {
  CheckLength("gather", "x", ShapeSize(x_shape), x.length);
  CheckAxis("gather", "axis", axis, x_shape.size());
  if (batch_dims < 0 || batch_dims > axis || batch_dims > static_cast<int64_t>(indices_shape.size())) {
    ThrowArgError("gather", "batchDims", "an integer in [0, min(axis, rank of indices)]", std::to_string(batch_dims));
  }
  for (int64_t d = 0; d < batch_dims; d++) {
    if (indices_shape[d] != x_shape[d]) {
      ThrowArgError("gather", "indices", "the batch dimensions of x (" + ShapeToString(x_shape) + ")",
                    "shape " + ShapeToString(indices_shape));
    }
  }
  GatherDims g;
  g.batch = Product(x_shape, 0, batch_dims);
  g.outer = Product(x_shape, batch_dims, axis);
  g.dim = x_shape[axis];
  g.slice = Product(x_shape, axis + 1, x_shape.size());
  g.per_batch = Product(indices_shape, batch_dims, indices_shape.size());
  CheckLength("gather", "out", g.batch * g.outer * g.per_batch * g.slice, out.length);
  const int64_t count = ShapeSize(indices_shape);
  for (int64_t i = 0; i < count; i++) {
    const int32_t v = indices[i];
    if (v < 0 || v > g.dim - 1) {
      throw Error("GatherV2: the index value " + std::to_string(v) + " is not in [0, " + std::to_string(g.dim - 1) + "]");
    }
  }
  return g;
}

struct GatherNdDims {
  int64_t slices, slice_rank, slice_size, limit;
  std::vector<int64_t> strides;  // in slices
};

// Formats numbers the way a JS array's toString does.
std::string JoinComma(const int32_t* values, int64_t n) {
  std::string s;
  for (int64_t i = 0; i < n; i++) s += (i ? "," : "") + std::to_string(values[i]);
  return s;
}

GatherNdDims CheckGatherNd(const Shape& params_shape, ConstBuffer params, const int32_t* indices,
                           const Shape& indices_shape, MutBuffer out) {
  CheckLength("gatherNd", "params", ShapeSize(params_shape), params.length);
  if (params_shape.empty()) ThrowArgError("gatherNd", "params", "rank 1 or higher", "rank 0");
  if (indices_shape.empty()) ThrowArgError("gatherNd", "indices", "rank 1 or higher", "rank 0");
  GatherNdDims g;
  g.slice_rank = indices_shape.back();
  if (g.slice_rank > static_cast<int64_t>(params_shape.size())) {
    ThrowArgError("gatherNd", "indices", "an innermost dimension <= rank of params (" +
                  std::to_string(params_shape.size()) + ")", std::to_string(g.slice_rank));
  }
  g.slices = Product(indices_shape, 0, indices_shape.size() - 1);
  g.slice_size = Product(params_shape, g.slice_rank, params_shape.size());
  g.limit = Product(params_shape, 0, g.slice_rank);
  g.strides.assign(g.slice_rank, 1);
  for (int64_t j = g.slice_rank - 1; j > 0; j--) g.strides[j - 1] = g.strides[j] * params_shape[j];
  CheckLength("gatherNd", "out", g.slices * g.slice_size, out.length);
  for (int64_t i = 0; i < g.slices; i++) {
    const int32_t* row = indices + i * g.slice_rank;
    int64_t flat = 0;
    for (int64_t j = 0; j < g.slice_rank; j++) flat += row[j] * g.strides[j];
    if (flat < 0 || flat >= g.limit) {
      std::string shape;
      for (size_t d = 0; d < params_shape.size(); d++) shape += (d ? "," : "") + std::to_string(params_shape[d]);
      throw Error("Invalid indices: " + JoinComma(row, g.slice_rank) + " does not index into " + shape);
    }
  }
  return g;
}

void CheckOneHot(int64_t count, int64_t depth, MutBuffer out) {
  if (depth < 0) ThrowArgError("oneHot", "depth", "a non-negative integer", std::to_string(depth));
  CheckLength("oneHot", "out", count * depth, out.length);
}

// ---------------------------------------------------------------------------------------
// Reference helpers: one element at a time, positions through explicit index vectors.

std::vector<int64_t> Unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> loc(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    loc[d] = flat % shape[d];
    flat /= shape[d];
  }
  return loc;
}

int64_t Ravel(const std::vector<int64_t>& loc, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); d++) flat = flat * shape[d] + loc[d];
  return flat;
}

void CopyElement(DType dtype, void* dst, int64_t di, const void* src, int64_t si) {
  const size_t es = DTypeSize(dtype);
  std::memcpy(static_cast<uint8_t*>(dst) + di * es, static_cast<const uint8_t*>(src) + si * es, es);
}

void StoreElement(DType dtype, void* dst, int64_t di, double value) {
  switch (dtype) {
    case DType::kFloat32: static_cast<float*>(dst)[di] = static_cast<float>(value); break;
    case DType::kInt32: static_cast<int32_t*>(dst)[di] = JsToInt32(value); break;
    case DType::kBool: static_cast<uint8_t*>(dst)[di] = FromDouble<uint8_t>(value); break;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------

void Transpose(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& perm, MutBuffer out) {
  CheckLength("transpose", "x", ShapeSize(x_shape), x.length);
  CheckPermutation("transpose", perm, x_shape.size());
  CheckLength("transpose", "out", x.length, out.length);
  const std::vector<int64_t> x_strides = RowMajorStrides(x_shape);
  CopyDims box;
  for (int64_t p : perm) {
    box.shape.push_back(x_shape[p]);
    box.src.push_back(x_strides[p]);
  }
  box.dst = RowMajorStrides(box.shape);
  Copy(dtype, x.data, x.length, out.data, out.length, box);
}

void TransposeRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& perm, MutBuffer out) {
  CheckLength("transpose", "x", ShapeSize(x_shape), x.length);
  CheckPermutation("transpose", perm, x_shape.size());
  CheckLength("transpose", "out", x.length, out.length);
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(x_shape[p]);
  for (int64_t i = 0; i < out.length; i++) {
    const std::vector<int64_t> out_loc = Unravel(i, out_shape);
    std::vector<int64_t> x_loc(x_shape.size());
    for (size_t d = 0; d < perm.size(); d++) x_loc[perm[d]] = out_loc[d];
    CopyElement(dtype, out.data, i, x.data, Ravel(x_loc, x_shape));
  }
}

void StridedSlice(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& begin,
                  const std::vector<int64_t>& strides, const Shape& size, MutBuffer out) {
  CheckLength("stridedSlice", "x", ShapeSize(x_shape), x.length);
  CheckSlice("stridedSlice", x_shape, begin, strides, size);
  CheckLength("stridedSlice", "out", ShapeSize(size), out.length);
  if (out.length == 0) return;
  const std::vector<int64_t> x_strides = RowMajorStrides(x_shape);
  CopyDims box;
  box.shape = size;
  box.dst = RowMajorStrides(size);
  for (size_t d = 0; d < x_shape.size(); d++) {
    box.src_offset += begin[d] * x_strides[d];
    box.src.push_back(strides[d] * x_strides[d]);
  }
  Copy(dtype, x.data, x.length, out.data, out.length, box);
}

void StridedSliceRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& begin,
                     const std::vector<int64_t>& strides, const Shape& size, MutBuffer out) {
  CheckLength("stridedSlice", "x", ShapeSize(x_shape), x.length);
  CheckSlice("stridedSlice", x_shape, begin, strides, size);
  CheckLength("stridedSlice", "out", ShapeSize(size), out.length);
  for (int64_t i = 0; i < out.length; i++) {
    std::vector<int64_t> loc = Unravel(i, size);
    for (size_t d = 0; d < loc.size(); d++) loc[d] = begin[d] + loc[d] * strides[d];
    CopyElement(dtype, out.data, i, x.data, Ravel(loc, x_shape));
  }
}

namespace {
std::vector<bool> FlippedAxes(const char* op, const std::vector<int64_t>& axes, size_t rank) {
  std::vector<bool> flip(rank, false);
  for (int64_t a : axes) {
    CheckAxis(op, "axes", a, rank);
    flip[a] = !flip[a];
  }
  return flip;
}
}  // namespace

void Reverse(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& axes, MutBuffer out) {
  CheckLength("reverse", "x", ShapeSize(x_shape), x.length);
  const std::vector<bool> flip = FlippedAxes("reverse", axes, x_shape.size());
  CheckLength("reverse", "out", x.length, out.length);
  CopyDims box = ContiguousBox(x_shape);
  for (size_t d = 0; d < x_shape.size(); d++) {
    if (!flip[d]) continue;
    box.src_offset += (x_shape[d] - 1) * box.src[d];
    box.src[d] = -box.src[d];
  }
  Copy(dtype, x.data, x.length, out.data, out.length, box);
}

void ReverseRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& axes, MutBuffer out) {
  CheckLength("reverse", "x", ShapeSize(x_shape), x.length);
  const std::vector<bool> flip = FlippedAxes("reverse", axes, x_shape.size());
  CheckLength("reverse", "out", x.length, out.length);
  for (int64_t i = 0; i < out.length; i++) {
    std::vector<int64_t> loc = Unravel(i, x_shape);
    for (size_t d = 0; d < loc.size(); d++) {
      if (flip[d]) loc[d] = x_shape[d] - 1 - loc[d];
    }
    CopyElement(dtype, out.data, i, x.data, Ravel(loc, x_shape));
  }
}

namespace {
Shape TiledShape(const Shape& x_shape, const std::vector<int64_t>& reps) {
  CheckRankOf("tile", "reps", reps.size(), x_shape.size());
  Shape out(x_shape.size());
  for (size_t d = 0; d < x_shape.size(); d++) {
    if (reps[d] < 0) ThrowArgError("tile", "reps", "non-negative integers", ShapeToString(reps));
    out[d] = x_shape[d] * reps[d];
  }
  return out;
}
}  // namespace

void Tile(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& reps, MutBuffer out) {
  CheckLength("tile", "x", ShapeSize(x_shape), x.length);
  CheckLength("tile", "out", ShapeSize(TiledShape(x_shape, reps)), out.length);
  // Each dimension becomes (repetition, position) with the repetition reading at stride 0:
  // the row-major order of that box is exactly the tiled output's.
  const std::vector<int64_t> x_strides = RowMajorStrides(x_shape);
  CopyDims box;
  for (size_t d = 0; d < x_shape.size(); d++) {
    box.shape.push_back(reps[d]);
    box.src.push_back(0);
    box.shape.push_back(x_shape[d]);
    box.src.push_back(x_strides[d]);
  }
  box.dst = RowMajorStrides(box.shape);
  Copy(dtype, x.data, x.length, out.data, out.length, box);
}

void TileRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& reps, MutBuffer out) {
  CheckLength("tile", "x", ShapeSize(x_shape), x.length);
  const Shape out_shape = TiledShape(x_shape, reps);
  CheckLength("tile", "out", ShapeSize(out_shape), out.length);
  for (int64_t i = 0; i < out.length; i++) {
    std::vector<int64_t> loc = Unravel(i, out_shape);
    for (size_t d = 0; d < loc.size(); d++) loc[d] %= x_shape[d];
    CopyElement(dtype, out.data, i, x.data, Ravel(loc, x_shape));
  }
}

void Pad(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
         const std::vector<int64_t>& after, double value, MutBuffer out) {
  CheckLength("pad", "x", ShapeSize(x_shape), x.length);
  CheckPads("pad", x_shape, before, after, -1);
  const Shape out_shape = PaddedShape(x_shape, before, after);
  CheckLength("pad", "out", ShapeSize(out_shape), out.length);
  if (out.length > x.length) Fill(dtype, out.data, out.length, value);
  CopyDims box = ContiguousBox(x_shape);
  box.dst = RowMajorStrides(out_shape);
  for (size_t d = 0; d < x_shape.size(); d++) box.dst_offset += before[d] * box.dst[d];
  Copy(dtype, x.data, x.length, out.data, out.length, box);
}

void PadRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
            const std::vector<int64_t>& after, double value, MutBuffer out) {
  CheckLength("pad", "x", ShapeSize(x_shape), x.length);
  CheckPads("pad", x_shape, before, after, -1);
  const Shape out_shape = PaddedShape(x_shape, before, after);
  CheckLength("pad", "out", ShapeSize(out_shape), out.length);
  for (int64_t i = 0; i < out.length; i++) StoreElement(dtype, out.data, i, value);
  for (int64_t i = 0; i < x.length; i++) {
    std::vector<int64_t> loc = Unravel(i, x_shape);
    for (size_t d = 0; d < loc.size(); d++) loc[d] += before[d];
    CopyElement(dtype, out.data, Ravel(loc, out_shape), x.data, i);
  }
}

void MirrorPad(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
               const std::vector<int64_t>& after, bool symmetric, MutBuffer out) {
  CheckLength("mirrorPad", "x", ShapeSize(x_shape), x.length);
  CheckPads("mirrorPad", x_shape, before, after, symmetric ? 0 : 1);
  const Shape out_shape = PaddedShape(x_shape, before, after);
  CheckLength("mirrorPad", "out", ShapeSize(out_shape), out.length);
  const std::vector<int64_t> x_strides = RowMajorStrides(x_shape);
  const std::vector<int64_t> out_strides = RowMajorStrides(out_shape);
  const int64_t edge = symmetric ? 1 : 0;
  // Along each dimension the output is three segments: the mirrored `before` pad (read
  // backwards from x), x itself, and the mirrored `after` pad. Every combination of segments
  // is one box copy from x.
  const size_t rank = x_shape.size();
  int64_t regions = 1;
  for (size_t d = 0; d < rank; d++) regions *= 3;
  for (int64_t r = 0; r < regions; r++) {
    CopyDims box;
    box.dst = out_strides;
    int64_t code = r;
    for (size_t d = 0; d < rank; d++) {
      const int64_t segment = code % 3;
      code /= 3;
      const int64_t n = x_shape[d], b = before[d];
      int64_t length, out_start, x_start, step;
      if (segment == 0) {
        length = b, out_start = 0, x_start = b - edge, step = -1;
      } else if (segment == 1) {
        length = n, out_start = b, x_start = 0, step = 1;
      } else {
        length = after[d], out_start = b + n, x_start = n - 2 + edge, step = -1;
      }
      box.shape.push_back(length);
      box.src.push_back(step * x_strides[d]);
      if (length > 0) {
        box.src_offset += x_start * x_strides[d];
        box.dst_offset += out_start * out_strides[d];
      }
    }
    Copy(dtype, x.data, x.length, out.data, out.length, box);
  }
}

void MirrorPadRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
                  const std::vector<int64_t>& after, bool symmetric, MutBuffer out) {
  CheckLength("mirrorPad", "x", ShapeSize(x_shape), x.length);
  CheckPads("mirrorPad", x_shape, before, after, symmetric ? 0 : 1);
  const Shape out_shape = PaddedShape(x_shape, before, after);
  CheckLength("mirrorPad", "out", ShapeSize(out_shape), out.length);
  const int64_t offset = symmetric ? 1 : 0;
  for (int64_t i = 0; i < out.length; i++) {
    std::vector<int64_t> loc = Unravel(i, out_shape);
    for (size_t d = 0; d < loc.size(); d++) {
      const int64_t start = before[d], end = before[d] + x_shape[d];
      if (loc[d] < start) loc[d] = start * 2 - loc[d] - offset;
      else if (loc[d] >= end) loc[d] = (end - 1) * 2 - loc[d] + offset;
      loc[d] -= start;
    }
    CopyElement(dtype, out.data, i, x.data, Ravel(loc, x_shape));
  }
}

void Concat(DType dtype, const std::vector<ConstBuffer>& xs, const std::vector<Shape>& shapes, int64_t axis, MutBuffer out) {
  CheckConcat(xs, shapes, axis);
  const Shape out_shape = ConcatShape(shapes, axis);
  CheckLength("concat", "out", ShapeSize(out_shape), out.length);
  std::vector<int64_t> axis_sizes;
  std::vector<const uint8_t*> pieces;
  for (size_t k = 0; k < xs.size(); k++) {
    axis_sizes.push_back(shapes[k][axis]);
    pieces.push_back(static_cast<const uint8_t*>(xs[k].data));
  }
  MoveRows<true>(DTypeSize(dtype), RowsOf(out_shape, axis, axis_sizes), static_cast<uint8_t*>(out.data), pieces);
}

void ConcatRef(DType dtype, const std::vector<ConstBuffer>& xs, const std::vector<Shape>& shapes, int64_t axis, MutBuffer out) {
  CheckConcat(xs, shapes, axis);
  const Shape out_shape = ConcatShape(shapes, axis);
  CheckLength("concat", "out", ShapeSize(out_shape), out.length);
  for (int64_t i = 0; i < out.length; i++) {
    std::vector<int64_t> loc = Unravel(i, out_shape);
    size_t k = 0;
    while (loc[axis] >= shapes[k][axis]) loc[axis] -= shapes[k++][axis];
    CopyElement(dtype, out.data, i, xs[k].data, Ravel(loc, shapes[k]));
  }
}

void Split(DType dtype, ConstBuffer x, const Shape& x_shape, int64_t axis, const std::vector<int64_t>& sizes,
           const std::vector<MutBuffer>& outs) {
  CheckSplit(x_shape, x, axis, sizes, outs);
  std::vector<uint8_t*> pieces;
  for (const MutBuffer& o : outs) pieces.push_back(static_cast<uint8_t*>(o.data));
  MoveRows<false>(DTypeSize(dtype), RowsOf(x_shape, axis, sizes), static_cast<const uint8_t*>(x.data), pieces);
}

void SplitRef(DType dtype, ConstBuffer x, const Shape& x_shape, int64_t axis, const std::vector<int64_t>& sizes,
              const std::vector<MutBuffer>& outs) {
  CheckSplit(x_shape, x, axis, sizes, outs);
  int64_t offset = 0;
  for (size_t k = 0; k < outs.size(); k++) {
    Shape piece_shape = x_shape;
    piece_shape[axis] = sizes[k];
    for (int64_t i = 0; i < outs[k].length; i++) {
      std::vector<int64_t> loc = Unravel(i, piece_shape);
      loc[axis] += offset;
      CopyElement(dtype, outs[k].data, i, x.data, Ravel(loc, x_shape));
    }
    offset += sizes[k];
  }
}

namespace {
// Gather's copy loop for slices of a fixed byte size (one element: the common axis=-1
// gather), so the copy is a single load and store instead of a memcpy call.
template <typename Slice>
void GatherSlices(const uint8_t* src, uint8_t* dst, const int32_t* indices, const GatherDims& g, int64_t slice_bytes,
                  int64_t begin, int64_t end) {
  for (int64_t u = begin; u < end; u++) {
    const int64_t i = u % g.per_batch;
    const int64_t bo = u / g.per_batch;  // batch * outer + outer index
    const int64_t b = bo / g.outer;
    const int64_t row = bo * g.dim + indices[b * g.per_batch + i];
    if constexpr (std::is_void_v<Slice>) {
      std::memcpy(dst + u * slice_bytes, src + row * slice_bytes, static_cast<size_t>(slice_bytes));
    } else {
      std::memcpy(dst + u * sizeof(Slice), src + row * sizeof(Slice), sizeof(Slice));
    }
  }
}
}  // namespace

void Gather(DType dtype, ConstBuffer x, const Shape& x_shape, const int32_t* indices, const Shape& indices_shape,
            int64_t axis, int64_t batch_dims, MutBuffer out) {
  const GatherDims g = CheckGather(x_shape, x, indices, indices_shape, axis, batch_dims, out);
  const int64_t slice_bytes = g.slice * static_cast<int64_t>(DTypeSize(dtype));
  const int64_t units = g.batch * g.outer * g.per_batch;
  if (slice_bytes == 0 || units == 0) return;
  const uint8_t* src = static_cast<const uint8_t*>(x.data);
  uint8_t* dst = static_cast<uint8_t*>(out.data);
  ParallelFor(units, std::max<int64_t>(1, kParallelBytes / slice_bytes), [&](int64_t begin, int64_t end) {
    if (slice_bytes == 4) GatherSlices<uint32_t>(src, dst, indices, g, slice_bytes, begin, end);
    else if (slice_bytes == 1) GatherSlices<uint8_t>(src, dst, indices, g, slice_bytes, begin, end);
    else GatherSlices<void>(src, dst, indices, g, slice_bytes, begin, end);
  });
}

void GatherRef(DType dtype, ConstBuffer x, const Shape& x_shape, const int32_t* indices, const Shape& indices_shape,
               int64_t axis, int64_t batch_dims, MutBuffer out) {
  const GatherDims g = CheckGather(x_shape, x, indices, indices_shape, axis, batch_dims, out);
  const Shape flat_out = {g.batch, g.outer, g.per_batch, g.slice};
  const Shape flat_x = {g.batch, g.outer, g.dim, g.slice};
  for (int64_t i = 0; i < out.length; i++) {
    std::vector<int64_t> loc = Unravel(i, flat_out);
    loc[2] = indices[loc[0] * g.per_batch + loc[2]];
    CopyElement(dtype, out.data, i, x.data, Ravel(loc, flat_x));
  }
}

void GatherNd(DType dtype, ConstBuffer params, const Shape& params_shape, const int32_t* indices,
              const Shape& indices_shape, MutBuffer out) {
  const GatherNdDims g = CheckGatherNd(params_shape, params, indices, indices_shape, out);
  const int64_t slice_bytes = g.slice_size * static_cast<int64_t>(DTypeSize(dtype));
  if (slice_bytes == 0 || g.slices == 0) return;
  const uint8_t* src = static_cast<const uint8_t*>(params.data);
  uint8_t* dst = static_cast<uint8_t*>(out.data);
  ParallelFor(g.slices, std::max<int64_t>(1, kParallelBytes / slice_bytes), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const int32_t* row = indices + i * g.slice_rank;
      int64_t flat = 0;
      for (int64_t j = 0; j < g.slice_rank; j++) flat += row[j] * g.strides[j];
      std::memcpy(dst + i * slice_bytes, src + flat * slice_bytes, static_cast<size_t>(slice_bytes));
    }
  });
}

void GatherNdRef(DType dtype, ConstBuffer params, const Shape& params_shape, const int32_t* indices,
                 const Shape& indices_shape, MutBuffer out) {
  const GatherNdDims g = CheckGatherNd(params_shape, params, indices, indices_shape, out);
  for (int64_t i = 0; i < out.length; i++) {
    const int64_t slice = i / g.slice_size, within = i % g.slice_size;
    int64_t flat = 0;
    for (int64_t j = 0; j < g.slice_rank; j++) {
      flat = flat * params_shape[j] + indices[slice * g.slice_rank + j];
    }
    CopyElement(dtype, out.data, i, params.data, flat * g.slice_size + within);
  }
}

void OneHot(DType out_dtype, const int32_t* indices, int64_t count, int64_t depth, double on_value,
            double off_value, MutBuffer out) {
  CheckOneHot(count, depth, out);
  if (out.length == 0) return;
  const uint32_t on = ElementBits(out_dtype, static_cast<float>(on_value));
  const uint32_t off = ElementBits(out_dtype, static_cast<float>(off_value));
  const int64_t row_bytes = depth * static_cast<int64_t>(DTypeSize(out_dtype));
  ParallelFor(count, std::max<int64_t>(1, kParallelBytes / row_bytes), [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; e++) {
      const int32_t hot = indices[e];
      if (DTypeSize(out_dtype) == 1) {
        uint8_t* row = static_cast<uint8_t*>(out.data) + e * depth;
        std::memset(row, static_cast<int>(off), static_cast<size_t>(depth));
        if (hot >= 0 && hot < depth) row[hot] = static_cast<uint8_t>(on);
      } else {
        uint32_t* row = static_cast<uint32_t*>(out.data) + e * depth;
        FillRun(row, depth, off);
        if (hot >= 0 && hot < depth) row[hot] = on;
      }
    }
  });
}

void OneHotRef(DType out_dtype, const int32_t* indices, int64_t count, int64_t depth, double on_value,
               double off_value, MutBuffer out) {
  CheckOneHot(count, depth, out);
  const double on = static_cast<float>(on_value), off = static_cast<float>(off_value);
  for (int64_t i = 0; i < out.length; i++) {
    StoreElement(out_dtype, out.data, i, indices[i / depth] == i % depth ? on : off);
  }
}

}  // namespace tessera
