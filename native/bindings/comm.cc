// Collectives: communicators over MPI (when built with it). Every op returns a Promise; the
// op runs on the communicator's progress thread and a thread-safe function settles the
// promise on the JS thread. While ops are pending the thread-safe function is referenced,
// which keeps Node's event loop alive; when none is, it lets the process exit.
#include <napi.h>

#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "comm/comm.h"
#include "comm/mpi_comm.h"
#include "core/buffer.h"

namespace tessera {
namespace {

#ifdef TESSERA_WITH_MPI
using comm::Algorithm;
using comm::Communicator;
using comm::Kind;
using comm::OpArgs;
using comm::OpResult;

struct Handle;

// One op in flight: what settles its promise and what it keeps alive until then.
struct Pending {
  Handle* handle;
  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> keep;  // buffers and the handle itself
  Kind kind;
  bool is_recv = false;
  std::string error;
  OpResult result;
  explicit Pending(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void Settle(Napi::Env env, Napi::Function, Handle* h, Pending* p);
using Tsfn = Napi::TypedThreadSafeFunction<Handle, Pending, Settle>;

// Freed by whichever goes last of its JS handle (the External) and its thread-safe function:
// at environment teardown Node finalizes the function itself, before or after the External.
struct Handle {
  std::shared_ptr<Communicator> comm;
  Tsfn tsfn;
  int pending = 0;
  bool external_gone = false;
  bool tsfn_gone = false;
};

void FinalizeBuffer(Napi::Env, void*, uint64_t* id) {
  FreeBuffer(*id);
  delete id;
}

Napi::Value WrapBuffer(Napi::Env env, void* data, uint64_t id, DType dtype, int64_t length) {
  if (data == nullptr) {
    switch (dtype) {
      case DType::kFloat32: return Napi::Float32Array::New(env, 0);
      case DType::kInt32: return Napi::Int32Array::New(env, 0);
      case DType::kBool: return Napi::Uint8Array::New(env, 0);
    }
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, data, length * DTypeSize(dtype), FinalizeBuffer, new uint64_t(id));
  switch (dtype) {
    case DType::kFloat32: return Napi::Float32Array::New(env, length, ab, 0);
    case DType::kInt32: return Napi::Int32Array::New(env, length, ab, 0);
    case DType::kBool: return Napi::Uint8Array::New(env, length, ab, 0);
  }
  return env.Undefined();
}

Napi::Value NewHandle(Napi::Env env, std::shared_ptr<Communicator> c);

void Settle(Napi::Env env, Napi::Function, Handle*, Pending* p) {
  std::unique_ptr<Pending> owned(p);
  if (env == nullptr) {
    // The environment is going away: nothing can be settled or released any more.
    for (auto& r : p->keep) r.SuppressDestruct();
    return;
  }
  Handle* h = p->handle;
  if (--h->pending == 0) h->tsfn.Unref(env);
  if (!p->error.empty()) {
    // After a failure that left requests outstanding the buffers must outlive them.
    if (h->comm->broken()) {
      for (auto& r : p->keep) r.SuppressDestruct();
    }
    p->deferred.Reject(Napi::Error::New(env, p->error).Value());
    return;
  }
  Napi::Value value = env.Undefined();
  if (p->is_recv) {
    Napi::Object o = Napi::Object::New(env);
    const int64_t n = ShapeSize(p->result.shape);
    o.Set("values", WrapBuffer(env, p->result.buffer, p->result.buffer_id, p->result.dtype, n));
    Napi::Array shape = Napi::Array::New(env, p->result.shape.size());
    for (size_t i = 0; i < p->result.shape.size(); i++) shape.Set(i, static_cast<double>(p->result.shape[i]));
    o.Set("shape", shape);
    o.Set("dtype", DTypeName(p->result.dtype));
    value = o;
  } else if (p->kind == Kind::kSplit) {
    value = p->result.comm ? NewHandle(env, p->result.comm) : env.Null();
  }
  p->deferred.Resolve(value);
}

Napi::Value NewHandle(Napi::Env env, std::shared_ptr<Communicator> c) {
  auto* h = new Handle{std::move(c), Tsfn(), 0};
  h->tsfn = Tsfn::New(env, "tessera-comm", 0, 1, h, [](Napi::Env, void*, Handle* h) {
    h->tsfn_gone = true;
    if (h->external_gone) delete h;
  });
  h->tsfn.Unref(env);
  return Napi::External<Handle>::New(env, h, [](Napi::Env, Handle* h) {
    h->comm->Stop();
    h->external_gone = true;
    if (h->tsfn_gone) delete h;
    else h->tsfn.Release();  // its finalizer deletes h
  });
}

Handle* GetHandle(const Napi::CallbackInfo& info, const char* op) {
  if (info.Length() < 1 || !info[0].IsExternal()) ThrowArgError(op, "communicator", "a communicator handle", "another value");
  return info[0].As<Napi::External<Handle>>().Data();
}

int64_t GetTimeout(const Napi::CallbackInfo& info, size_t index, const char* op) {
  const int64_t t = GetInt(info, index, op, "timeoutMs");
  if (t < 1) ThrowArgError(op, "timeoutMs", "a positive number of milliseconds", std::to_string(t));
  return t;
}

void CheckCount(int64_t n, const char* op, const char* arg) {
  if (n > INT_MAX) ThrowArgError(op, arg, "at most 2^31-1 elements (MPI counts are int)", std::to_string(n));
}

enum class Route { kCollective, kSend, kRecv };

// Queues `body` with `args` (or the message, for send and recv); the returned promise
// settles when it finished on this rank.
Napi::Value Launch(const Napi::CallbackInfo& info, Handle* h, OpArgs args, std::vector<Napi::Value> keep,
                   std::function<void(Communicator&, OpArgs&, OpResult&)> body, Route route = Route::kCollective) {
  const bool is_recv = route == Route::kRecv;
  Napi::Env env = info.Env();
  auto* p = new Pending(env);
  p->handle = h;
  p->kind = args.header.kind;
  p->is_recv = is_recv;
  p->keep.push_back(Napi::Persistent(info[0]));
  for (auto& v : keep) p->keep.push_back(Napi::Persistent(v));
  Napi::Promise promise = p->deferred.Promise();
  std::shared_ptr<Communicator> c = h->comm;
  Tsfn tsfn = h->tsfn;
  Communicator::Done done = [p, c, tsfn](const std::string& error, OpResult&& result) mutable {
    p->error = error;
    p->result = std::move(result);
    if (c->stopping()) return;  // exiting: the JS side is gone
    tsfn.BlockingCall(p);
  };
  try {
    switch (route) {
      case Route::kCollective: c->Submit(std::move(args), std::move(body), std::move(done)); break;
      case Route::kSend: c->SubmitSend(std::move(args), std::move(done)); break;
      case Route::kRecv: c->SubmitRecv(std::move(args), std::move(done)); break;
    }
  } catch (...) {
    delete p;
    throw;
  }
  if (h->pending++ == 0) h->tsfn.Ref(env);
  return promise;
}

Napi::Value World(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    static bool hooked = false;
    const int64_t rank = GetInt(info, 0, "commWorld", "rank");
    const int64_t size = GetInt(info, 1, "commWorld", "size");
    if (size < 1 || rank < 0 || rank >= size) ThrowArgError("commWorld", "rank", "a rank in [0, size)", std::to_string(rank));
    auto w = Communicator::World(static_cast<int>(rank), static_cast<int>(size));
    if (!hooked) {
      hooked = true;
      napi_add_env_cleanup_hook(info.Env(), [](void*) { comm::ShutdownMpi(); }, nullptr);
    }
    return NewHandle(info.Env(), w);
  });
}

Napi::Value Rank(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::Number::New(info.Env(), GetHandle(info, "rank")->comm->rank()); });
}

Napi::Value Size(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::Number::New(info.Env(), GetHandle(info, "size")->comm->size()); });
}

// allReduce(h, input, output, shape, op, algorithm, timeoutMs)
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "allReduce";
    Handle* h = GetHandle(info, op);
    TensorArg in = GetTensor(info, 1, op, "input");
    TensorArg out = GetTensor(info, 2, op, "output");
    Shape shape = GetShape(info, 3, op, "shape");
    CheckTensorShape(in, shape, op, "input");
    CheckTensorShape(out, shape, op, "output");
    CheckSameDType(in, out, op, "output");
    OpArgs a;
    a.header.kind = Kind::kAllReduce;
    a.header.op = comm::ParseReduceOp(GetString(info, 4, op, "op"), op);
    a.header.algorithm = comm::ParseAlgorithm(GetString(info, 5, op, "algorithm"), op);
    if (a.header.op == comm::ReduceOp::kMean && in.dtype != DType::kFloat32) ThrowArgError(op, "input", "dtype float32 for mean", DTypeName(in.dtype));
    a.timeout_ms = GetTimeout(info, 6, op);
    CheckCount(in.length, op, "input");
    a.header.dtype = in.dtype;
    a.header.shape = shape;
    a.header.seq = h->comm->next_seq();
    a.in = in.data;
    a.out = out.data;
    a.count = in.length;
    return Launch(info, h, std::move(a), {info[1], info[2]}, [](Communicator& c, OpArgs& a, OpResult&) { c.AllReduce(a); });
  });
}

// broadcast(h, input | null, output, shape, root, algorithm, timeoutMs); input only on the root.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "broadcast";
    Handle* h = GetHandle(info, op);
    TensorArg out = GetTensor(info, 2, op, "output");
    Shape shape = GetShape(info, 3, op, "shape");
    CheckTensorShape(out, shape, op, "output");
    const int64_t root = GetInt(info, 4, op, "root");
    if (root < 0 || root >= h->comm->size()) ThrowArgError(op, "root", "a rank in [0, " + std::to_string(h->comm->size()) + ")", std::to_string(root));
    OpArgs a;
    a.header.kind = Kind::kBroadcast;
    a.header.root = root;
    a.header.algorithm = comm::ParseAlgorithm(GetString(info, 5, op, "algorithm"), op);
    a.timeout_ms = GetTimeout(info, 6, op);
    CheckCount(out.length, op, "output");
    std::vector<Napi::Value> keep{info[2]};
    if (root == h->comm->rank()) {
      TensorArg in = GetTensor(info, 1, op, "input");
      CheckTensorShape(in, shape, op, "input");
      CheckSameDType(in, out, op, "output");
      a.in = in.data;
      keep.push_back(info[1]);
    }
    a.header.dtype = out.dtype;
    a.header.shape = shape;
    a.header.seq = h->comm->next_seq();
    a.out = out.data;
    a.count = out.length;
    return Launch(info, h, std::move(a), keep, [](Communicator& c, OpArgs& a, OpResult&) { c.Broadcast(a); });
  });
}

// allGather(h, input, output, shape, algorithm, timeoutMs): output holds size * input's length.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "allGather";
    Handle* h = GetHandle(info, op);
    TensorArg in = GetTensor(info, 1, op, "input");
    TensorArg out = GetTensor(info, 2, op, "output");
    Shape shape = GetShape(info, 3, op, "shape");
    CheckTensorShape(in, shape, op, "input");
    CheckSameDType(in, out, op, "output");
    if (out.length != in.length * h->comm->size()) {
      ThrowArgError(op, "output", std::to_string(in.length * h->comm->size()) + " elements (size * input)", std::to_string(out.length));
    }
    CheckCount(out.length, op, "output");
    OpArgs a;
    a.header.kind = Kind::kAllGather;
    a.header.algorithm = comm::ParseAlgorithm(GetString(info, 4, op, "algorithm"), op);
    a.timeout_ms = GetTimeout(info, 5, op);
    a.header.dtype = in.dtype;
    a.header.shape = shape;
    a.header.seq = h->comm->next_seq();
    a.in = in.data;
    a.out = out.data;
    a.count = in.length;
    return Launch(info, h, std::move(a), {info[1], info[2]}, [](Communicator& c, OpArgs& a, OpResult&) { c.AllGather(a); });
  });
}

// reduceScatter(h, input, output, shape, op, algorithm, timeoutMs): output holds this rank's
// block of the reduced input (numpy array_split of its elements).
Napi::Value ReduceScatter(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "reduceScatter";
    Handle* h = GetHandle(info, op);
    TensorArg in = GetTensor(info, 1, op, "input");
    TensorArg out = GetTensor(info, 2, op, "output");
    Shape shape = GetShape(info, 3, op, "shape");
    CheckTensorShape(in, shape, op, "input");
    CheckSameDType(in, out, op, "output");
    std::vector<int64_t> off, len;
    comm::SplitRows(shape, h->comm->size(), &off, &len);
    if (out.length != len[h->comm->rank()]) {
      ThrowArgError(op, "output", std::to_string(len[h->comm->rank()]) + " elements (this rank's block of rows)", std::to_string(out.length));
    }
    CheckCount(in.length, op, "input");
    OpArgs a;
    a.header.kind = Kind::kReduceScatter;
    a.header.op = comm::ParseReduceOp(GetString(info, 4, op, "op"), op);
    if (a.header.op == comm::ReduceOp::kMean && in.dtype != DType::kFloat32) ThrowArgError(op, "input", "dtype float32 for mean", DTypeName(in.dtype));
    a.header.algorithm = comm::ParseAlgorithm(GetString(info, 5, op, "algorithm"), op);
    a.timeout_ms = GetTimeout(info, 6, op);
    a.header.dtype = in.dtype;
    a.header.shape = shape;
    a.header.seq = h->comm->next_seq();
    a.in = in.data;
    a.out = out.data;
    a.count = in.length;
    return Launch(info, h, std::move(a), {info[1], info[2]}, [](Communicator& c, OpArgs& a, OpResult&) { c.ReduceScatter(a); });
  });
}

int GetPeer(const Napi::CallbackInfo& info, size_t index, Handle* h, const char* op, const char* arg) {
  const int64_t p = GetInt(info, index, op, arg);
  if (p < 0 || p >= h->comm->size()) ThrowArgError(op, arg, "a rank in [0, " + std::to_string(h->comm->size()) + ")", std::to_string(p));
  return static_cast<int>(p);
}

int GetTag(const Napi::CallbackInfo& info, size_t index, const char* op) {
  const int64_t t = GetInt(info, index, op, "tag");
  if (t < 0 || t > 16383) ThrowArgError(op, "tag", "an integer in [0, 16383]", std::to_string(t));
  return static_cast<int>(t);
}

// send(h, input, shape, dest, tag, timeoutMs)
Napi::Value Send(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "send";
    Handle* h = GetHandle(info, op);
    TensorArg in = GetTensor(info, 1, op, "input");
    Shape shape = GetShape(info, 2, op, "shape");
    CheckTensorShape(in, shape, op, "input");
    CheckCount(in.length, op, "input");
    OpArgs a;
    a.peer = GetPeer(info, 3, h, op, "dest");
    a.tag = GetTag(info, 4, op);
    a.timeout_ms = GetTimeout(info, 5, op);
    a.header.kind = Kind::kBarrier;
    a.header.dtype = in.dtype;
    a.header.shape = shape;
    a.in = in.data;
    a.count = in.length;
    return Launch(info, h, std::move(a), {info[1]}, nullptr, Route::kSend);
  });
}

// recv(h, src, tag, timeoutMs) -> { values, shape, dtype }
Napi::Value Recv(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "recv";
    Handle* h = GetHandle(info, op);
    OpArgs a;
    a.peer = GetPeer(info, 1, h, op, "src");
    a.tag = GetTag(info, 2, op);
    a.timeout_ms = GetTimeout(info, 3, op);
    a.header.kind = Kind::kBarrier;
    return Launch(info, h, std::move(a), {}, nullptr, Route::kRecv);
  });
}

// barrier(h, timeoutMs)
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Handle* h = GetHandle(info, "barrier");
    OpArgs a;
    a.header.kind = Kind::kBarrier;
    a.timeout_ms = GetTimeout(info, 1, "barrier");
    a.header.seq = h->comm->next_seq();
    return Launch(info, h, std::move(a), {}, [](Communicator& c, OpArgs& a, OpResult&) { c.Barrier(a); });
  });
}

// split(h, color (negative: none), key, timeoutMs) -> a handle, or null without a color
Napi::Value Split(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const char* op = "split";
    Handle* h = GetHandle(info, op);
    const int64_t color = GetInt(info, 1, op, "color");
    const int64_t key = GetInt(info, 2, op, "key");
    if (color > INT_MAX) ThrowArgError(op, "color", "an integer below 2^31", std::to_string(color));
    if (key < INT_MIN || key > INT_MAX) ThrowArgError(op, "key", "a 32-bit integer", std::to_string(key));
    OpArgs a;
    a.header.kind = Kind::kSplit;
    a.header.root = color < 0 ? -1 : color;
    a.header.key = key;
    a.timeout_ms = GetTimeout(info, 3, op);
    a.header.seq = h->comm->next_seq();
    return Launch(info, h, std::move(a), {}, [](Communicator& c, OpArgs& a, OpResult& r) { r.comm = c.Split(a); });
  });
}

// free(h): stops the communicator after its queued ops (world is never freed).
Napi::Value Free(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Handle* h = GetHandle(info, "free");
    h->comm->RequestStop();
    return info.Env().Undefined();
  });
}
#endif

Napi::Value Info(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
#ifdef TESSERA_WITH_MPI
    comm::MpiInfo m = comm::GetMpiInfo();
    o.Set("mpi", true);
    o.Set("library", m.library);
    o.Set("standard", std::to_string(m.version) + "." + std::to_string(m.subversion));
    o.Set("initialized", m.initialized);
    o.Set("finalized", m.finalized);
#else
    o.Set("mpi", false);
#endif
#ifdef TESSERA_WITH_NCCL
    o.Set("nccl", true);
#else
    o.Set("nccl", false);
#endif
    return o;
  });
}

}  // namespace

void RegisterComm(Napi::Env env, Napi::Object exports) {
  exports.Set("commInfo", Napi::Function::New(env, Info, "commInfo"));
#ifdef TESSERA_WITH_MPI
  exports.Set("commWorld", Napi::Function::New(env, World, "commWorld"));
  exports.Set("commRank", Napi::Function::New(env, Rank, "commRank"));
  exports.Set("commSize", Napi::Function::New(env, Size, "commSize"));
  exports.Set("commAllReduce", Napi::Function::New(env, AllReduce, "commAllReduce"));
  exports.Set("commBroadcast", Napi::Function::New(env, Broadcast, "commBroadcast"));
  exports.Set("commAllGather", Napi::Function::New(env, AllGather, "commAllGather"));
  exports.Set("commReduceScatter", Napi::Function::New(env, ReduceScatter, "commReduceScatter"));
  exports.Set("commSend", Napi::Function::New(env, Send, "commSend"));
  exports.Set("commRecv", Napi::Function::New(env, Recv, "commRecv"));
  exports.Set("commBarrier", Napi::Function::New(env, Barrier, "commBarrier"));
  exports.Set("commSplit", Napi::Function::New(env, Split, "commSplit"));
  exports.Set("commFree", Napi::Function::New(env, Free, "commFree"));
#endif
}

}  // namespace tessera
