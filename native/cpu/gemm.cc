// The GEMM driver: blocking, packing, threading and the shortcuts for small and thin
// products. The arithmetic lives in the kernel sets (gemm_kernels.h), one per ISA.
//
// Loop nest:
//   jc: NC columns of B, packed into kc x nr panels shared by every thread (each panel
//       packed once, by whichever thread needs it first);
//     parts (one parallel region): disjoint row ranges of C (column ranges too when m is small);
//       ic: MC rows of C;
//         pc: KC deep slices (C accumulates across them); the MC x KC block of A is packed
//             per thread into mr-tall panels and stays in L2;
//           jr: one B panel, which stays in L1 while
//             ir: every mr-row A panel of the block runs the register-tile kernel on it.
// The epilogue runs on each finished tile, right after its last kernel call.
#include "cpu/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/gemm_kernels.h"

namespace tessera {
namespace gemm {
namespace {

// Products up to this many multiply-adds run unpacked, where a register tile would be mostly
// padding. Packing pays off early: in the lab, 12^3 and 64x4x64 already run faster packed.
constexpr double kSmallMacs = 8.0 * 8.0 * 8.0;
// A matrix-vector product is bound by reading the matrix; two threads read it faster from
// about 1M elements (4 MB) on.
constexpr double kGemvParallelMacs = 1024.0 * 1024.0;
// Row parts per thread: a few more parts than threads let a thread that was descheduled
// for a while be helped by the others.
constexpr int64_t kPartsPerThread = 2;
// The most floats of B packed at once (a column block over the whole depth): 16 MB.
constexpr int64_t kPackedBFloats = int64_t{1} << 22;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t RoundUp(int64_t a, int64_t b) { return CeilDiv(a, b) * b; }

// A per-thread packing buffer, grown on demand and kept: packing must not allocate per call.
class Scratch {
 public:
  ~Scratch() { std::free(data_); }
  float* Get(int64_t floats) {
    size_t bytes = static_cast<size_t>(RoundUp(std::max<int64_t>(floats, 16) * 4, 64));
    if (bytes > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      void* p = std::aligned_alloc(64, bytes);
      if (p == nullptr) throw std::bad_alloc();
      data_ = static_cast<float*>(p);
      capacity_ = bytes;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local Scratch a_scratch;
thread_local Scratch b_scratch;
thread_local Scratch edge_scratch;
thread_local Scratch vector_scratch;
// Packing states of the B panels (see PackedB), kept like the buffers.
thread_local std::unique_ptr<std::atomic<int>[]> state_buffer;
thread_local int64_t state_capacity = 0;

// op(A) rows [i0, i0 + rows) x depth [p0, p0 + kc) into mr-row panels: panel r holds, for
// each p, the mr values of column p (rows past the end are zero).
void PackA(const KernelSet& ks, bool trans_a, const float* a, int64_t lda, int64_t i0, int64_t rows, int64_t p0,
           int64_t kc, float* dst) {
  const int mr = ks.mr;
  for (int64_t r = 0; r < rows; r += mr) {
    const int64_t h = std::min<int64_t>(mr, rows - r);
    float* panel = dst + r * kc;
    if (!trans_a) {
      ks.pack_rows(a + (i0 + r) * lda + p0, lda, h, kc, mr, panel);
      continue;
    }
    const float* src = a + p0 * lda + i0 + r;
    for (int64_t p = 0; p < kc; p++) {
      const float* s = src + p * lda;
      float* d = panel + p * mr;
      for (int64_t i = 0; i < h; i++) d[i] = s[i];
      for (int64_t i = h; i < mr; i++) d[i] = 0.0f;
    }
  }
}

// op(B) depth [p0, p0 + kc) x columns [j0 + q * nr, ...) for panels q in [q0, q1) of a block
// `cols` wide, into nr-column panels from dst on (columns past the end are zero).
void PackB(const KernelSet& ks, bool trans_b, const float* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
           int64_t cols, int64_t q0, int64_t q1, float* dst) {
  const int nr = ks.nr;
  for (int64_t q = q0; q < q1; q++) {
    const int64_t jq = q * nr;
    const int64_t w = std::min<int64_t>(nr, cols - jq);
    float* panel = dst + (q - q0) * kc * nr;
    if (trans_b) {
      ks.pack_rows(b + (j0 + jq) * ldb + p0, ldb, w, kc, nr, panel);
      continue;
    }
    const float* src = b + p0 * ldb + j0 + jq;
    for (int64_t p = 0; p < kc; p++) {
      const float* s = src + p * ldb;
      float* d = panel + p * nr;
      for (int64_t j = 0; j < w; j++) d[j] = s[j];
      for (int64_t j = w; j < nr; j++) d[j] = 0.0f;
    }
  }
}

bool HasEpilogue(const Epilogue& e) { return e.bias != nullptr || e.activation != Activation::kNone; }

// C = x * op(B) (m == 1) or op(A) * x (n == 1): one vector against a matrix, threaded over
// the outputs. The matrix is read once, in place; only a strided vector is gathered.
void GemvPath(const KernelSet& ks, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
              int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate, const Epilogue& e,
              bool parallel) {
  const bool row_out = m == 1;
  const int64_t count = row_out ? n : m;
  const float* mat = row_out ? b : a;
  const int64_t ld = row_out ? ldb : lda;
  // The product reads the matrix along p for each output when its rows run along p.
  const bool rows_contiguous = row_out ? trans_b : !trans_a;
  const float* x = row_out ? a : b;
  const int64_t x_stride = row_out ? (trans_a ? lda : 1) : (trans_b ? 1 : ldb);
  const int64_t y_stride = row_out ? 1 : ldc;
  float* vectors = (x_stride != 1 || y_stride != 1) ? vector_scratch.Get(k + count) : nullptr;
  if (x_stride != 1) {
    for (int64_t p = 0; p < k; p++) vectors[p] = x[p * x_stride];
    x = vectors;
  }
  float* y = y_stride != 1 ? vectors + k : c;
  auto run = [&](int64_t i0, int64_t i1) {
    if (y_stride != 1 && accumulate) {
      for (int64_t i = i0; i < i1; i++) y[i] = c[i * y_stride];
    }
    const float* rows = mat + (rows_contiguous ? i0 * ld : i0);
    ks.gemv(rows_contiguous, i1 - i0, k, rows, ld, x, y + i0, accumulate);
    if (y_stride != 1) {
      for (int64_t i = i0; i < i1; i++) c[i * y_stride] = y[i];
    }
    if (HasEpilogue(e)) {
      if (row_out) {
        ks.epilogue(e, n, c + i0, ldc, 0, i0, 1, i1 - i0);
      } else {
        ks.epilogue(e, 1, c + i0 * ldc, ldc, i0, 0, i1 - i0, 1);
      }
    }
  };
  if (parallel) {
    ParallelFor(count, std::max<int64_t>(64, static_cast<int64_t>(kGemvParallelMacs / 2) / std::max<int64_t>(k, 1)), run);
  } else {
    run(0, count);
  }
}

struct PackedProblem {
  const KernelSet* ks;
  bool trans_a, trans_b;
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  bool accumulate;
  const Epilogue* epilogue;
  int64_t mc;       // rows of a packed A block
  int64_t kc;       // depth of a slice (the last may be shallower)
  bool direct_b;    // B read in place (not transposed, few rows of C): packing it would cost as much as the product
};

// One column block of B, packed lazily: panel (slice s, q) is packed by the first thread that
// needs it while the others work elsewhere or wait for it, so the whole product runs in a
// single parallel region (no pack-then-compute barriers, whose wake-ups dominate at 256^2).
class PackedB {
 public:
  PackedB(const PackedProblem& pp, int64_t jc, int64_t nc, float* buffer)
      : pp_(pp), jc_(jc), nc_(nc), panels_(CeilDiv(nc, pp.ks->nr)), buffer_(buffer) {
    if (pp.direct_b) return;
    const int64_t count = CeilDiv(pp.k, pp.kc) * panels_;
    if (count > state_capacity) {
      state_buffer.reset(new std::atomic<int>[static_cast<size_t>(count)]);
      state_capacity = count;
    }
    states_ = state_buffer.get();
    for (int64_t i = 0; i < count; i++) states_[i].store(kUnpacked, std::memory_order_relaxed);
  }

  int64_t jc() const { return jc_; }
  int64_t panels() const { return panels_; }
  int64_t nc() const { return nc_; }

  // The kc x nr panel q of the slice starting at depth pc, and the stride between its rows.
  const float* Panel(int64_t pc, int64_t kc, int64_t q, int64_t* stride) {
    const int nr = pp_.ks->nr;
    const int64_t jr = q * nr;
    *stride = nr;
    if (pp_.direct_b) {
      if (nc_ - jr >= nr) {
        *stride = pp_.ldb;
        return pp_.b + pc * pp_.ldb + jc_ + jr;
      }
      // The kernels load whole nr-wide rows: the last, narrower panel is packed.
      float* edge = edge_scratch.Get(kc * nr);
      PackB(*pp_.ks, false, pp_.b, pp_.ldb, pc, kc, jc_, nc_, q, q + 1, edge);
      return edge;
    }
    float* slice = buffer_ + pc * RoundUp(nc_, nr);
    std::atomic<int>& state = states_[(pc / pp_.kc) * panels_ + q];
    int expected = kUnpacked;
    if (state.load(std::memory_order_acquire) != kReady) {
      if (state.compare_exchange_strong(expected, kPacking, std::memory_order_acquire)) {
        PackB(*pp_.ks, pp_.trans_b, pp_.b, pp_.ldb, pc, kc, jc_, nc_, q, q + 1, slice + q * kc * nr);
        state.store(kReady, std::memory_order_release);
      } else {
        // Another thread is packing it right now (it never waits on anything): a short wait.
        for (int spins = 0; state.load(std::memory_order_acquire) != kReady; spins++) {
          if (spins > 64) std::this_thread::yield();
        }
      }
    }
    return slice + q * kc * nr;
  }

 private:
  static constexpr int kUnpacked = 0;
  static constexpr int kPacking = 1;
  static constexpr int kReady = 2;
  const PackedProblem& pp_;
  int64_t jc_, nc_, panels_;
  float* buffer_;
  std::atomic<int>* states_ = nullptr;
};

// Rows [r0, r1) of C against column panels [q0, q1) of a B block, over the whole depth. The
// panels are visited from `rotation` on, so that threads starting together pack different ones.
void MacroKernel(const PackedProblem& pp, PackedB& pb, int64_t r0, int64_t r1, int64_t q0, int64_t q1,
                 int64_t rotation) {
  const KernelSet& ks = *pp.ks;
  const int mr = ks.mr;
  const bool epilogue = HasEpilogue(*pp.epilogue);
  float* abuf = a_scratch.Get(std::min(pp.mc, RoundUp(r1 - r0, mr)) * pp.kc);
  const int64_t span = q1 - q0;
  for (int64_t ic = r0; ic < r1; ic += pp.mc) {
    const int64_t mc = std::min(pp.mc, r1 - ic);
    for (int64_t pc = 0; pc < pp.k; pc += pp.kc) {
      const int64_t kc = std::min(pp.kc, pp.k - pc);
      const bool add_c = pp.accumulate || pc > 0;
      const bool last = pc + kc >= pp.k;
      PackA(ks, pp.trans_a, pp.a, pp.lda, ic, mc, pc, kc, abuf);
      for (int64_t step = 0; step < span; step++) {
        const int64_t q = q0 + (step + rotation) % span;
        int64_t b_stride;
        const float* bp = pb.Panel(pc, kc, q, &b_stride);
        const int64_t col = pb.jc() + q * ks.nr;
        const int64_t cols = std::min<int64_t>(ks.nr, pb.jc() + pb.nc() - col);
        for (int64_t ir = 0; ir < mc; ir += mr) {
          const int64_t rows = std::min<int64_t>(mr, mc - ir);
          float* ct = pp.c + (ic + ir) * pp.ldc + col;
          ks.kernels[rows - 1](kc, abuf + ir * kc, bp, b_stride, ct, pp.ldc, cols, add_c);
          if (last && epilogue) ks.epilogue(*pp.epilogue, pp.n, ct, pp.ldc, ic + ir, col, rows, cols);
        }
      }
    }
  }
}

void PackedPath(const KernelSet& ks, const Blocking& blocking, int threads, bool direct_b, bool trans_a,
                bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate, const Epilogue& e) {
  const int mr = ks.mr;
  const int nr = ks.nr;
  // Equal slices: 300 deep runs as 150 + 150, not 256 + 44.
  const int64_t kc = CeilDiv(k, CeilDiv(k, blocking.kc));
  // A column block is packed over the whole depth; its width keeps that within budget.
  const int64_t nc_limit = std::min(RoundUp(blocking.nc, nr), std::max<int64_t>(nr, kPackedBFloats / k / nr * nr));
  const int64_t nc_max = RoundUp(CeilDiv(n, CeilDiv(n, nc_limit)), nr);
  PackedProblem pp{&ks, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, &e,
                   RoundUp(blocking.mc, mr), kc, direct_b};
  float* bbuf = direct_b ? nullptr : b_scratch.Get(k * nc_max);

  const int64_t m_panels = CeilDiv(m, mr);
  for (int64_t jc = 0; jc < n; jc += nc_max) {
    PackedB pb(pp, jc, std::min(nc_max, n - jc), bbuf);
    const int64_t n_panels = pb.panels();
    // Threads split rows; when there are too few row panels, columns too (each such part
    // packs the same rows of A, which are few).
    const int64_t wanted = threads > 1 ? threads * kPartsPerThread : 1;
    const int64_t m_parts = std::min(m_panels, wanted);
    int64_t n_parts = 1;
    if (m_panels < wanted) n_parts = std::min(n_panels, std::max<int64_t>(CeilDiv(wanted, m_parts), threads));
    const int64_t parts = m_parts * n_parts;
    auto run = [&](int64_t part0, int64_t part1) {
      for (int64_t part = part0; part < part1; part++) {
        const int64_t mi = part / n_parts;
        const int64_t ni = part % n_parts;
        const int64_t r0 = std::min(m, (mi * m_panels / m_parts) * mr);
        const int64_t r1 = std::min(m, ((mi + 1) * m_panels / m_parts) * mr);
        const int64_t q0 = ni * n_panels / n_parts;
        const int64_t q1 = (ni + 1) * n_panels / n_parts;
        if (r0 < r1 && q0 < q1) MacroKernel(pp, pb, r0, r1, q0, q1, mi * (q1 - q0) / m_parts);
      }
    };
    if (parts > 1) {
      ParallelFor(parts, 1, run);
    } else {
      run(0, 1);
    }
  }
}

}  // namespace

void SgemmWith(const KernelSet& ks, const DriverOptions& options, bool trans_a, bool trans_b, int64_t m, int64_t n,
               int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
               bool accumulate, const Epilogue& e) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    }
    if (HasEpilogue(e)) ks.epilogue(e, n, c, ldc, 0, 0, m, n);
    return;
  }
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const bool parallel = macs >= kSgemmParallelMacs && NumThreads() > 1;
  if (options.allow_shortcuts) {
    if (macs <= kSmallMacs) {
      ks.small(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
      if (HasEpilogue(e)) ks.epilogue(e, n, c, ldc, 0, 0, m, n);
      return;
    }
    if (m == 1 || n == 1) {
      GemvPath(ks, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, e,
               macs >= kGemvParallelMacs && NumThreads() > 1);
      return;
    }
  }
  Blocking blocking = ks.blocking;
  if (options.blocking.kc > 0) blocking.kc = options.blocking.kc;
  if (options.blocking.mc > 0) blocking.mc = options.blocking.mc;
  if (options.blocking.nc > 0) blocking.nc = options.blocking.nc;
  const bool direct_b = options.allow_shortcuts && !trans_b && m <= ks.mr;
  PackedPath(ks, blocking, parallel ? NumThreads() : 1, direct_b, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc,
             accumulate, e);
}

const KernelSet& KernelsFor(Isa isa) {
  if (isa == Isa::kAvx512 && Avx512Kernels() != nullptr) return *Avx512Kernels();
  if (isa != Isa::kGeneric && Avx2Kernels() != nullptr) return *Avx2Kernels();
  return GenericKernels();
}

}  // namespace gemm

void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, bool accumulate, const Epilogue& epilogue) {
  static const gemm::KernelSet& kernels = gemm::KernelsFor(ActiveIsa());
  gemm::SgemmWith(kernels, gemm::DriverOptions{}, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate,
                  epilogue);
}

void SgemmIsa(Isa isa, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate, const Epilogue& epilogue) {
  if (static_cast<int>(isa) > static_cast<int>(ActiveIsa())) {
    ThrowArgError("sgemm", "isa", std::string("an ISA this CPU runs (at most ") + IsaName(ActiveIsa()) + ")",
                  IsaName(isa));
  }
  gemm::SgemmWith(gemm::KernelsFor(isa), gemm::DriverOptions{}, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc,
                  accumulate, epilogue);
}

}  // namespace tessera
