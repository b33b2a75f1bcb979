// The convolution kernel lab: the stages of the regular convolution engine kept side by side
// for each of its three passes (forward, backprop input, backprop filter), so that every step
// can be re-measured on any machine and checked against the references (Conv2DRef and its
// gradients).
//
//   0 naive            the seven loops of the definition, float sums (the gradients: the same
//                      loops scattering into dx or dfilter)
//   1 im2col+ref-gemm  the whole im2col matrix through SgemmRef (col2im after it for dx)
//   2 im2col-whole     the whole im2col matrix through Sgemm
//   3 im2col-blocked   im2col in blocks of output rows through Sgemm: the engine before this lab
//                      (blocks of a 16 MiB scratch; the override bN sets N rows per block)
//   4 pointwise-gemm   1x1 filters at stride 1 only: the input is the im2col matrix, one Sgemm
//   5 direct-avx2      the direct engine (conv_direct.cc) on the AVX2 tiles
//   6 direct-avx512    the direct engine on the AVX-512 tiles
//   7 engine           Conv2D and its gradients as the backend calls them
//
// The direct engine is implicit GEMM with neither an im2col matrix nor packing: register tiles
// (conv_kernels.h; AVX-512: 6 x 64 and 14 x 32 outputs) whose rows broadcast values straight
// out of the NHWC tensors, each row through a pointer of its own, times rows of the filter or
// of dy read in place.
//   forward          rows: output pixels; per filter row (or tap), each pixel's window (zeros
//                    where it reads padding); the filter in L2-sized blocks of rows
//   backprop input   the transposed forward (dy with the flipped, channel-transposed filter;
//                    stride 1 where dx adds little work) or the scatter (dy times the
//                    transposed filter, each tile added into dx in place; strides, valid layers)
//   backprop filter  rows: output channels, vectors across input channels of one tap, over runs
//                    of output pixels (summed transposed, per thread); or rows: filter rows
//                    (short reductions, few channels)
// The engine takes the direct passes on AVX2 and AVX-512 (keeping to im2col for products
// narrower than a vector and for the backprop input of layers with few pixels), the pointwise
// GEMM for 1x1 forward and backprop input, im2col elsewhere.
//
// Run them all with
//   node bench/conv_lab.mjs [--shapes r56,c1,c2,r56b8 | N:H:W:C:KH:KW:OC:pad:stride:dilation,...]
//     [--passes forward,input,filter] [--variants 3,3@b4,6,6@6x64+c256,7] [--threads 2] [--stat min]
// which checks each against the reference and prints GFLOP/s = 2*N*OH*OW*OC*KH*KW*IC / t, the
// median of rounds (every variant once per round). r56: 1x56x56x64 -> 64, 3x3 same; r56b8: its
// batch of 8; c1, c2: the convnet's layers, 64x28x28x1 -> 32 and 64x13x13x32 -> 64, 3x3 valid.
//
// MEASUREMENTS
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/conv.h"

namespace tessera {

enum class ConvPass { kForward = 0, kBackpropInput = 1, kBackpropFilter = 2 };

struct ConvLabVariant {
  std::string name;
  bool available;                  // its ISA is within ActiveIsa()
  std::vector<std::string> tiles;  // the direct variants' tile shapes, "RxC" (rows x columns)
};

std::vector<ConvLabVariant> ConvLabVariants(ConvPass pass);

// Overrides of the engine's choices (zero keeps them): the direct tile (rows x columns), the
// pixels per block of the backprop-filter reduction, the image rows per im2col block, and
// whether forward tiles run across output rows (1) or stay inside one (2), whether the
// backprop filter's tile rows are filter rows (1) or output channels (2), whether the
// backprop input runs the transposed forward (1) or the scatter (2).
struct ConvLabOptions {
  int tile_rows = 0;
  int tile_cols = 0;
  int64_t chunk_pixels = 0;
  int64_t block_rows = 0;
  int row_tiles = 0;
  int filter_mode = 0;
  int input_mode = 0;
};

// One pass with one variant: forward (a = x, b = filter, out = y), backprop input (a = dy,
// b = filter, out = dx) or backprop filter (a = x, b = dy, out = dfilter). Returns false where
// the variant does not apply to the geometry (the pointwise path on a non-1x1 filter, the
// transposed forward on strides, a pinned channel-rows tile that does not divide out_c);
// throws for an unknown or unavailable variant or a tile the set does not have.
bool ConvLab(ConvPass pass, int variant, const ConvGeometry& g, const float* a, const float* b, float* out,
             const ConvLabOptions& options);

}  // namespace tessera
