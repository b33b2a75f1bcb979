// Tessera's collective algorithms on MPI point-to-point messages (on the communicator's
// algorithm communicator, apart from user messages), reducing with the SIMD kernels.
//
// Ring (large messages): the buffer is cut into `size` segments; in size-1 reduce-scatter
// steps each rank sends one segment to its right neighbour and reduces the one arriving
// from its left, after which every rank owns one fully reduced segment; size-1 all-gather
// steps then pass the reduced segments round. Each segment travels in chunks, and a chunk
// moves on to the next step as soon as it has arrived and been reduced, so sends,
// receives and reductions of different chunks overlap (a pipeline, as NCCL's ring does).
// Every rank sends and receives 2(size-1)/size of the buffer: the bandwidth-optimal volume.
//
// Recursive doubling (small messages): log2(size) exchanges of the whole buffer with
// partner rank ^ 2^k; a non-power-of-two size first folds the extra ranks into their
// neighbours and hands them the result at the end. Fewer steps, more bytes: latency wins.
//
// Reductions give bitwise identical results on every rank: each ring segment is reduced
// along one chain and then copied, and recursive doubling's pairs compute a (op) b and
// b (op) a, which are equal for the commutative ops offered.
#ifdef TESSERA_WITH_MPI
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "comm/mpi_comm.h"
#include "core/errors.h"

namespace tessera {
namespace comm {
namespace {

int64_t EnvInt(const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  const int64_t x = std::atoll(v);
  return x < lo ? lo : x > hi ? hi : x;
}

// Chunk and window: a chunk small enough that the pipeline fills quickly and the reduction
// of one chunk stays in L2, large enough that per-message costs vanish. TESSERA_RING_CHUNK_KB
// and TESSERA_RING_WINDOW override them (bench/collectives.mjs --lab sweeps them).
int64_t ChunkBytes() {
  static const int64_t bytes = EnvInt("TESSERA_RING_CHUNK_KB", 512, 4, 1 << 16) * 1024;
  return bytes;
}
int Window() {
  static const int w = static_cast<int>(EnvInt("TESSERA_RING_WINDOW", 4, 1, 64));
  return w;
}

struct RingPlan {
  int steps;
  std::function<int(int)> send_seg, recv_seg;
  std::function<bool(int)> reduce;
  // Steps from which received chunks land in the buffer itself, in a segment this rank sent
  // `overwrite_lag` steps earlier: such a receive waits until that send completed.
  int direct_from = 0;
  int overwrite_lag = 0;
};

// Step 0 sends from `src` and the first reduction of each segment reads its left operand
// there, so buf needs no copy of src beforehand (src == buf: in place).
void RingPipeline(Communicator& c, const char* op, ReduceOp rop, DType dtype, const char* src, char* buf,
                  const std::vector<int64_t>& off, const std::vector<int64_t>& len, const RingPlan& plan, int tag) {
  const int P = c.size(), r = c.rank();
  const int right = (r + 1) % P, left = (r - 1 + P) % P;
  const int64_t es = static_cast<int64_t>(DTypeSize(dtype));
  const MPI_Datatype type = MpiType(dtype);
  const MPI_Comm comm = c.algo_comm();
  const int64_t maxlen = *std::max_element(len.begin(), len.end());
  if (maxlen == 0 || plan.steps == 0) return;
  const int64_t C = std::max<int64_t>(1, ChunkBytes() / es);
  const int64_t nchunks = (maxlen + C - 1) / C;
  const int64_t units = plan.steps * nchunks;
  const int W = Window();
  char* tmp = c.Scratch(static_cast<size_t>(W * C * es), 1);
  std::vector<MPI_Request> rreq(W, MPI_REQUEST_NULL), sreq(W, MPI_REQUEST_NULL);

  const auto chunk = [&](int64_t u, bool send, int64_t* o, int64_t* n) {
    const int t = static_cast<int>(u / nchunks);
    const int64_t j = u % nchunks;
    const int s = send ? plan.send_seg(t) : plan.recv_seg(t);
    const int64_t b = j * C;
    *o = off[s] + b;
    *n = std::max<int64_t>(0, std::min(b + C, len[s]) - b);
  };
  int64_t posted = 0, received = 0, sent = 0, send_done = 0;
  Poller poll(c, op);
  const auto what = [&] {
    if (received < posted) {
      return "rank " + std::to_string(left) + " (ring step " + std::to_string(received / nchunks + 1) + " of " +
             std::to_string(plan.steps) + "; it may have died or be stuck)";
    }
    return "rank " + std::to_string(right) + " to take ring step " + std::to_string(send_done / nchunks + 1) + " of " +
           std::to_string(plan.steps) + " (it may have died or be stuck)";
  };
  while (received < units || send_done < units) {
    bool progress = false;
    while (posted < units && posted - received < W) {
      const int t = static_cast<int>(posted / nchunks);
      const bool direct = !plan.reduce(t);
      if (direct && t >= plan.direct_from && plan.overwrite_lag > 0 &&
          send_done <= posted - static_cast<int64_t>(plan.overwrite_lag) * nchunks) {
        break;
      }
      int64_t o, n;
      chunk(posted, false, &o, &n);
      MPI_Request& q = rreq[posted % W];
      q = MPI_REQUEST_NULL;
      if (n > 0) {
        void* dst = direct ? buf + o * es : tmp + (posted % W) * C * es;
        TESSERA_MPI(MPI_Irecv(dst, static_cast<int>(n), type, left, tag, comm, &q), op);
      }
      posted++;
    }
    // A chunk is sent at step t once it arrived (and was reduced) at step t-1.
    while (sent < units && sent - send_done < W && (sent < nchunks || sent - nchunks < received)) {
      int64_t o, n;
      chunk(sent, true, &o, &n);
      MPI_Request& q = sreq[sent % W];
      q = MPI_REQUEST_NULL;
      const char* from = sent < nchunks ? src : buf;
      if (n > 0) TESSERA_MPI(MPI_Isend(from + o * es, static_cast<int>(n), type, right, tag, comm, &q), op);
      sent++;
    }
    while (received < posted) {
      int flag = 0;
      TESSERA_MPI(MPI_Test(&rreq[received % W], &flag, MPI_STATUS_IGNORE), op);
      if (!flag) break;
      const int t = static_cast<int>(received / nchunks);
      if (plan.reduce(t)) {
        int64_t o, n;
        chunk(received, false, &o, &n);
        // Every segment is reduced once per rank, so its left operand is still src's.
        Reduce(rop, dtype, buf + o * es, src + o * es, tmp + (received % W) * C * es, n);
      }
      received++;
      progress = true;
    }
    while (send_done < sent) {
      int flag = 0;
      TESSERA_MPI(MPI_Test(&sreq[send_done % W], &flag, MPI_STATUS_IGNORE), op);
      if (!flag) break;
      send_done++;
      progress = true;
    }
    if (progress) poll.Progressed();
    else poll.Idle(what);
  }
}

int Mod(int a, int p) { return ((a % p) + p) % p; }

// Sends `sn` elements to `to` while receiving `rn` from `from` (either may be -1: none).
void Exchange(Communicator& c, const char* op, DType dtype, const void* sbuf, int64_t sn, int to, void* rbuf, int64_t rn,
              int from, int tag) {
  MPI_Request reqs[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  if (from >= 0 && rn > 0) TESSERA_MPI(MPI_Irecv(rbuf, static_cast<int>(rn), MpiType(dtype), from, tag, c.algo_comm(), &reqs[0]), op);
  if (to >= 0 && sn > 0) TESSERA_MPI(MPI_Isend(sbuf, static_cast<int>(sn), MpiType(dtype), to, tag, c.algo_comm(), &reqs[1]), op);
  Poller(c, op).WaitAll(reqs, 2, [&] {
    if (reqs[0] != MPI_REQUEST_NULL) return "rank " + std::to_string(from) + " (it may have died or be stuck)";
    return "rank " + std::to_string(to) + " to receive (it may have died or be stuck)";
  });
}

}  // namespace

void RingAllReduce(Communicator& c, ReduceOp op, DType dtype, const void* in, void* out, int64_t count, int tag) {
  const int P = c.size(), r = c.rank();
  std::vector<int64_t> off, len;
  SplitEven(count, P, &off, &len);
  RingPlan plan;
  plan.steps = 2 * (P - 1);
  // Reduce-scatter steps t < P-1 send segment r-t and reduce r-t-1 (rank r ends owning
  // r+1); all-gather steps u = t-(P-1) send r+1-u and receive r-u.
  plan.send_seg = [=](int t) { return t < P - 1 ? Mod(r - t, P) : Mod(r + 1 - (t - (P - 1)), P); };
  plan.recv_seg = [=](int t) { return t < P - 1 ? Mod(r - t - 1, P) : Mod(r - (t - (P - 1)), P); };
  plan.reduce = [=](int t) { return t < P - 1; };
  // All-gather step u writes segment r-u, which reduce-scatter step u sent.
  plan.direct_from = P - 1;
  plan.overwrite_lag = P - 1;
  RingPipeline(c, "allReduce", op, dtype, static_cast<const char*>(in), static_cast<char*>(out), off, len, plan, tag);
}

void RingAllGather(Communicator& c, DType dtype, void* buf, int64_t block, int tag) {
  const int P = c.size(), r = c.rank();
  std::vector<int64_t> off(P), len(P, block);
  for (int i = 0; i < P; i++) off[i] = i * block;
  RingPlan plan;
  plan.steps = P - 1;
  plan.send_seg = [=](int t) { return Mod(r - t, P); };
  plan.recv_seg = [=](int t) { return Mod(r - t - 1, P); };
  plan.reduce = [](int) { return false; };
  RingPipeline(c, "allGather", ReduceOp::kSum, dtype, static_cast<char*>(buf), static_cast<char*>(buf), off, len, plan, tag);
}

void RingReduceScatter(Communicator& c, ReduceOp op, DType dtype, const void* in, void* work, const std::vector<int64_t>& off,
                       const std::vector<int64_t>& len, void* out, int tag) {
  const int P = c.size(), r = c.rank();
  RingPlan plan;
  plan.steps = P - 1;
  // Shifted by one from allReduce's first half so that rank r ends owning segment r.
  plan.send_seg = [=](int t) { return Mod(r - t - 1, P); };
  plan.recv_seg = [=](int t) { return Mod(r - t - 2, P); };
  plan.reduce = [](int) { return true; };
  RingPipeline(c, "reduceScatter", op, dtype, static_cast<const char*>(in), static_cast<char*>(work), off, len, plan, tag);
  const int64_t es = static_cast<int64_t>(DTypeSize(dtype));
  std::memcpy(out, static_cast<char*>(work) + off[r] * es, len[r] * es);
}

void RecursiveDoublingAllReduce(Communicator& c, ReduceOp op, DType dtype, const void* in, void* out, int64_t count, int tag) {
  const int P = c.size(), r = c.rank();
  const char* name = "allReduce";
  char* tmp = c.Scratch(static_cast<size_t>(count) * DTypeSize(dtype), 1);
  // This rank's partial result: `in` until the first reduction writes `out`.
  const void* cur = in;
  const auto reduce = [&] {
    Reduce(op, dtype, out, cur, tmp, count);
    cur = out;
  };
  int pof2 = 1;
  while (pof2 * 2 <= P) pof2 *= 2;
  const int extra = P - pof2;
  // The first 2*extra ranks pair up: even ones hand their data to the odd neighbour and wait.
  int vrank;
  if (r < 2 * extra) {
    if (r % 2 == 0) {
      Exchange(c, name, dtype, cur, count, r + 1, nullptr, 0, -1, tag);
      vrank = -1;
    } else {
      Exchange(c, name, dtype, nullptr, 0, -1, tmp, count, r - 1, tag);
      reduce();
      vrank = r / 2;
    }
  } else {
    vrank = r - extra;
  }
  if (vrank >= 0) {
    for (int mask = 1; mask < pof2; mask <<= 1) {
      const int vpeer = vrank ^ mask;
      const int peer = vpeer < extra ? vpeer * 2 + 1 : vpeer + extra;
      Exchange(c, name, dtype, cur, count, peer, tmp, count, peer, tag);
      reduce();
    }
  }
  if (r < 2 * extra) {
    if (r % 2 == 0) Exchange(c, name, dtype, nullptr, 0, -1, out, count, r + 1, tag);
    else Exchange(c, name, dtype, out, count, r - 1, nullptr, 0, -1, tag);
  }
}

void TreeBroadcast(Communicator& c, DType dtype, void* buf, int64_t count, int root, int tag) {
  const int P = c.size(), r = c.rank();
  const int vr = Mod(r - root, P);
  int mask = 1;
  while (mask < P) {
    if (vr & mask) {
      Exchange(c, "broadcast", dtype, nullptr, 0, -1, buf, count, Mod(vr - mask + root, P), tag);
      break;
    }
    mask <<= 1;
  }
  std::vector<MPI_Request> sends;
  std::vector<int> dests;
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (vr + mask < P) {
      dests.push_back(Mod(vr + mask + root, P));
      sends.push_back(MPI_REQUEST_NULL);
      TESSERA_MPI(MPI_Isend(buf, static_cast<int>(count), MpiType(dtype), dests.back(), tag, c.algo_comm(), &sends.back()), "broadcast");
    }
  }
  Poller(c, "broadcast").WaitAll(sends.data(), static_cast<int>(sends.size()), [&] {
    std::string s;
    for (size_t i = 0; i < sends.size(); i++) {
      if (sends[i] != MPI_REQUEST_NULL) s += (s.empty() ? "" : ", ") + std::to_string(dests[i]);
    }
    return "rank(s) " + s + " to receive (they may have died or be stuck)";
  });
}

}  // namespace comm
}  // namespace tessera
#endif
