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
//   8 smallk-packed    the small-K forward (conv_smallk.cc) on the active ISA's GEMM kernel
//                      set (RxC pins another: 12x32, 14x32, 8x48 on AVX-512, 6x16 on AVX2);
//                      forward only, K = filter_h * filter_w * in_c up to kSmallKMax (128)
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
// narrower than a vector and for the backprop input of layers with few pixels), the small-K
// forward for layers of few input channels (below), the pointwise GEMM for 1x1 forward and
// backprop input, im2col elsewhere.
//
// Run them all with
//   node bench/conv_lab.mjs [--shapes r56,c1,c2,r56b8 | N:H:W:C:KH:KW:OC:pad:stride:dilation,...]
//     [--passes forward,input,filter] [--variants 3,3@b4,6,6@6x64+c256,7] [--threads 2] [--stat min]
// which checks each against the reference and prints GFLOP/s = 2*N*OH*OW*OC*KH*KW*IC / t, the
// median of rounds (every variant once per round). r56: 1x56x56x64 -> 64, 3x3 same; r56b8: its
// batch of 8; c1, c2: the convnet's layers, 64x28x28x1 -> 32 and 64x13x13x32 -> 64, 3x3 valid.
//
// Measured on the 2-core AVX-512 development machine (AMD EPYC, Zen 5; the GEMM lab's peak is
// about 255 GFLOP/s on one core and 475 on two), GFLOP/s before (3, the engine before this lab)
// -> after (7, the direct engine). One thread, best of 15 rounds:
//            forward       backprop input   backprop filter
//   r56      164 -> 248    194 -> 246       167 -> 237
//   c1        42 -> 81      26 -> 27         39 -> 137
//   c2       173 -> 238    176 -> 203       150 -> 222
//   r56b8    130 -> 241    137 -> 237       118 -> 217
// Two threads, median of 15 rounds, in one of the moments the shared machine left both cores
// free (most runs there see one core's worth of time, and read like the table above):
//   r56      313 -> 457    306 -> 432       288 -> 373
//   c1        59 -> 114     40 -> 40         54 -> 177
//   c2       328 -> 440    302 -> 335       264 -> 412
//   r56b8    266 -> 478    280 -> 472       213 -> 421
// The other stages on r56, one thread (forward / input / filter): im2col-whole 145 / 175 / 141,
// im2col in L2-sized blocks (3@b4, 0.5 MiB) 184 / 199 / 181, direct-avx2 125 / 124 / 99 (the
// AVX2 peak is half the AVX-512 one); naive about 2-10, im2col+ref-gemm about 3.
//
// Why the direct engine wins: im2col writes a matrix 9x the input (r56: 3136 x 576 floats,
// 7.2 MB) and Sgemm then packs it again, two passes through L3 around a kernel that could run
// at peak; L2-sized blocks help one thread but leave Sgemm too little per block to thread. The
// direct tile reads the input straight from L1/L2 (a window is read again by the neighbouring
// tiles, from cache), keeps its filter panel in L2, and the 6 x 64 tile issues 24 FMAs per 4
// loads and 6 broadcasts with every row pointer in a register: 97% of the one-core GEMM peak.
// The backprop filter broadcasts dy's consecutive channels against one tap's input channels,
// both read in place, threads summing private copies of the (small) gradient; the backprop
// input runs at forward speed as the transposed forward, and the scatter adds the tiles into
// dx from the kernel's own store (col2im without the col matrix) where that forward would
// multiply padding.
//
// What limits the rest. One core: the forward and the same-padded gradients run at 85-97% of
// peak, the kernel's own ceiling (broadcasts and pointer bookkeeping beside the FMAs). Two
// cores: the forward at 93-100%; the backprop filter's threads each sum a private gradient and
// add them at the end (r56: 79%); c2's input gradient (71%) runs its scatter in two phases of
// bands (a thread must not add into rows another is adding into), and spends about an eighth
// of its time adding tiles into dx. c1 (one input channel, 9 multiply-adds per output) writes
// 5.5 MB of y for 25 MFLOP, 4.5 FLOP per byte: at about 25 GB/s of stores that is about 115
// GFLOP/s, where it is. Its input gradient (one input channel: no tile fills a vector) stays on
// im2col + Sgemm with n = 9; training never needs the first layer's input gradient.
//
// The small-K forward (8). That c1 figure was not the store limit after all: the direct tile
// walks one segment per filter row, 3 steps each there, reloading its 14 row pointers per
// segment, so the bookkeeping outweighs the 9 multiply-adds per output. Packing the tile's
// im2col rows instead (12 pixels x K floats in the GEMM micro-panel layout, one copy of 12
// consecutive inputs per reduction step) and running the GEMM microkernel once over the whole
// reduction, the filter read in place, takes c1 to the microkernel's own speed (about 210
// GFLOP/s on one core over its 9 steps, 80% of the GEMM peak) plus the packing (about a
// quarter of the time, one thread). Several input channels or a stride read a tap's values strided: the input is
// first laid out as planes (per padded image row, per channel and phase of the stride; zeros
// for the padding), so that every step is again one copy, in units of output rows whose planes
// stay in L2 (the next unit's input prefetched while the tiles run). The sums keep the filter's
// order, one FMA chain from zero: bit for bit the direct engine's results.
// Before (the engine at 0cda994, the direct tiles) -> after (7, which now takes 8 for these),
// GFLOP/s, min of 15 rounds, forward:
//                                     one thread     two threads    two threads, TESSERA_ISA=avx2
//   c1 (64x28x28x1 -> 32, 3x3 valid)    88 -> 148     170 -> 264      111 -> 169
//   16x32x32x3 -> 32, 3x3 same         122 -> 167     236 -> 306      173 -> 204
//   c2, r56                            unchanged (257, 266; 505, 515)  (the direct engine)
// c1 at 264 GFLOP/s writes its 5.5 MB of y in 94 us (59 GB/s). Run with
//   node bench/conv_lab.mjs --shapes c1,c2 --passes forward --variants 6,7,8 --stat min
// The engine takes the small-K forward where it measured better than the direct tiles
// (SmallKPays): in_c <= 4, filter_w * in_c <= 12 (the direct engine's segment length), strides
// <= 2, any out_c. Two threads, min of 15 rounds, im2col / direct -> small-K, GFLOP/s (16x32x32
// inputs, 32 outputs, same padding, unless given):
//   3x3, in_c 2 / 4 / 5           93 / 142 -> 283    192 / 265 -> 326    199 / 279 -> 295
//   3x3, in_c 6 / 8 (outside)    220 / 322 -> 311    253 / 351 -> 312
//   5x5x2, 11x11x1               172 / 219 -> 331    112 / 124 -> 365
//   3x3x3 s2 over 16x224x224      76 / 175 -> 186    (4x4x3 s2 over 16x64x64: 198 / 256 -> 288)
//   3x3x4 s2 -> 64               159 / 336 -> 297    (the one loss inside the rule)
//   outside: 6x6x3 s2 and 4x4x3 s4 over 4x224x224 (-> 64, 96): 431 -> 369, 443 -> 310; 1x1 s2
//   in_c 8: 149 -> 121. Narrow outputs, which kept to im2col: 64x28x28x3 -> 6: 21 -> 59.
// The loss beyond: long direct segments run near the direct engine's best while the small-K
// path still copies every step, and strides make the input it lays out outgrow the output.
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
