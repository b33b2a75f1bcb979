// Data-movement kernels (transpose, slice, pad, tile, concat, gather, ...), matching
// tfjs-backend-cpu's semantics. They move elements without looking at them, so one code
// path per element size serves every dtype: float32 and int32 move as 4-byte words (NaN
// payloads and -0 survive), bool as bytes.
//
// Every kernel validates what memory safety depends on (the caller's shapes against the
// buffers' lengths, indices against their range) and throws tessera::Error; the bindings
// and the TypeScript layer check the rest. Each has a plain scalar `<Op>Ref` used as the test
// oracle: one element at a time through full index arithmetic, sharing no code with the
// optimized path.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace tessera {

// A buffer of elements of one dtype with its length in elements.
struct ConstBuffer {
  const void* data;
  int64_t length;
};
struct MutBuffer {
  void* data;
  int64_t length;
};

// out = x with its dimensions permuted: out.shape[i] = x_shape[perm[i]].
void Transpose(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& perm, MutBuffer out);
void TransposeRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& perm, MutBuffer out);

// out[i...] = x[begin + i * strides...] for i < size (per dimension); strides may be negative.
// Serves Slice (unit strides) and StridedSlice (after tfjs's slice_util resolved its masks).
void StridedSlice(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& begin,
                  const std::vector<int64_t>& strides, const Shape& size, MutBuffer out);
void StridedSliceRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& begin,
                     const std::vector<int64_t>& strides, const Shape& size, MutBuffer out);

// Reverses x along each axis listed an odd number of times (tfjs's Reverse flips once per
// listing, so an axis listed twice comes back unchanged).
void Reverse(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& axes, MutBuffer out);
void ReverseRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& axes, MutBuffer out);

// out.shape[i] = x_shape[i] * reps[i]; out[j...] = x[j % x_shape...].
void Tile(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& reps, MutBuffer out);
void TileRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& reps, MutBuffer out);

// Constant padding (PadV2); `value` is stored as a typed-array store of the dtype would.
void Pad(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
         const std::vector<int64_t>& after, double value, MutBuffer out);
void PadRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
            const std::vector<int64_t>& after, double value, MutBuffer out);

// Mirror padding: reflect excludes the edge element (pads <= dim - 1), symmetric repeats it
// (pads <= dim).
void MirrorPad(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
               const std::vector<int64_t>& after, bool symmetric, MutBuffer out);
void MirrorPadRef(DType dtype, ConstBuffer x, const Shape& x_shape, const std::vector<int64_t>& before,
                  const std::vector<int64_t>& after, bool symmetric, MutBuffer out);

// Joins xs along `axis` (all ranks equal, other dimensions equal).
void Concat(DType dtype, const std::vector<ConstBuffer>& xs, const std::vector<Shape>& shapes, int64_t axis, MutBuffer out);
void ConcatRef(DType dtype, const std::vector<ConstBuffer>& xs, const std::vector<Shape>& shapes, int64_t axis, MutBuffer out);

// The inverse of Concat: outs[k] takes sizes[k] consecutive entries of x along `axis`
// (SplitV, and Unpack with sizes of 1).
void Split(DType dtype, ConstBuffer x, const Shape& x_shape, int64_t axis, const std::vector<int64_t>& sizes,
           const std::vector<MutBuffer>& outs);
void SplitRef(DType dtype, ConstBuffer x, const Shape& x_shape, int64_t axis, const std::vector<int64_t>& sizes,
              const std::vector<MutBuffer>& outs);

// GatherV2 with batch dimensions. Any index outside [0, x_shape[axis]) throws tfjs's own
// message ("GatherV2: the index value I is not in [0, N]") before anything is written.
void Gather(DType dtype, ConstBuffer x, const Shape& x_shape, const int32_t* indices, const Shape& indices_shape,
            int64_t axis, int64_t batch_dims, MutBuffer out);
void GatherRef(DType dtype, ConstBuffer x, const Shape& x_shape, const int32_t* indices, const Shape& indices_shape,
               int64_t axis, int64_t batch_dims, MutBuffer out);

// GatherNd. As in tfjs, an index row is checked by the flat offset it addresses, and a bad
// one throws "Invalid indices: i,j does not index into d0,d1,...".
void GatherNd(DType dtype, ConstBuffer params, const Shape& params_shape, const int32_t* indices,
              const Shape& indices_shape, MutBuffer out);
void GatherNdRef(DType dtype, ConstBuffer params, const Shape& params_shape, const int32_t* indices,
                 const Shape& indices_shape, MutBuffer out);

// out[i, j] = indices[i] == j ? on : off, in out's dtype. tfjs builds the result in a
// Float32Array first, so both values are rounded to float before the store.
void OneHot(DType out_dtype, const int32_t* indices, int64_t count, int64_t depth, double on_value,
            double off_value, MutBuffer out);
void OneHotRef(DType out_dtype, const int32_t* indices, int64_t count, int64_t depth, double on_value,
               double off_value, MutBuffer out);

}  // namespace tessera
