// Internals of the convolution engines shared by their drivers (conv.cc, conv_direct.cc,
// conv_depthwise.cc), the per-ISA kernels (conv_avx512.cc, conv_avx2.cc) and the kernel lab
// (conv_lab.cc).
//
// Every regular convolution pass is one product shape: a register tile of C (rows x a few
// vectors of columns) accumulates broadcast values of `rows` strided input streams times
// rows of a matrix B whose columns run contiguously. What changes between the passes is only
// where the streams point:
//   forward          rows: output pixels; streams: the input each reads, per filter row or
//                    tap; B: the filter (rows (tap, in channel), columns out channels)
//   backprop input   the forward on dy with the flipped, transposed filter (stride 1); or
//                    rows: output pixels, streams: their dy; B: the transposed filter, each
//                    tile row added into dx where its pixel reads the tile's tap (the scatter)
//   backprop filter  rows: output channels; the stream: one dy pixel's channels (consecutive
//                    values); B: the input pixels one tap reads (the sum lands transposed); or
//                    rows: filter rows (tap, in channel); streams: the input a run of output
//                    pixels reads; B: dy (rows output pixels, columns out channels)
// No im2col matrix is ever formed: the tile reads the NHWC tensors in place.
#pragma once
#include <algorithm>
#include <cstdint>

#include "cpu/conv.h"
#include "cpu/isa.h"

namespace tessera {
namespace gemm {
struct KernelSet;
}
namespace conv {

// Floor and ceiling of a / b for b > 0 and any sign of a.
inline int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Output columns [begin, end) whose filter column kw reads an input column inside the image.
struct Span {
  int64_t begin, end;
};
inline Span ValidOutputColumns(const ConvGeometry& g, int64_t kw) {
  int64_t offset = g.pad_left - kw * g.dilation_w;  // iw = ow * stride_w - offset
  int64_t begin = std::max<int64_t>(0, CeilDiv(offset, g.stride_w));
  int64_t end = std::min(g.out_w, FloorDiv(g.in_w - 1 + offset, g.stride_w) + 1);
  return {begin, std::max(begin, end)};
}

// Whether some output position reads outside the input (where tfjs skips the product).
inline bool ReadsPadding(const ConvGeometry& g) {
  if (g.out_h == 0 || g.out_w == 0 || g.filter_h == 0 || g.filter_w == 0) return false;
  int64_t last_h = (g.out_h - 1) * g.stride_h - g.pad_top + (g.filter_h - 1) * g.dilation_h;
  int64_t last_w = (g.out_w - 1) * g.stride_w - g.pad_left + (g.filter_w - 1) * g.dilation_w;
  return g.pad_top > 0 || g.pad_left > 0 || last_h >= g.in_h || last_w >= g.in_w;
}

// One stretch of the reduction: `len` steps; at step j, row i of the tile reads a[i][j * a_step]
// and the tile row of B is b + j * b_step.
struct Segment {
  const float* const* a;  // `rows` pointers (the tile's row count, padded to its full height)
  const float* b;
  int64_t len;
};

// A segment whose rows read consecutive values: row i reads a[i + j * a_step].
struct Stream {
  const float* a;
  const float* b;
  int64_t len;
};

// C[rows x cols] (= or +=) sum over the segments. The kernel is built for a tile of kRows x
// (kVecs * lanes): rows <= kRows (the pointers of missing rows must still be readable), cols <=
// its width (B is read masked to cols, so it may end at the last column).
using TileKernel = void (*)(int64_t segments, const Segment* seg, int64_t a_step, int64_t b_step, float* c, int64_t ldc,
                            int64_t rows, int64_t cols, bool accumulate);
using StreamKernel = void (*)(int64_t segments, const Stream* seg, int64_t a_step, int64_t b_step, float* c,
                              int64_t ldc, int64_t rows, int64_t cols, bool accumulate);
// The segment kernel adding tile row i into c_rows[i] (rows < the kernel's height).
using ScatterKernel = void (*)(int64_t segments, const Segment* seg, int64_t a_step, int64_t b_step,
                               float* const* c_rows, int64_t rows, int64_t cols);

// The tallest tile any set has.
constexpr int kMaxTileRows = 32;

struct TileShape {
  int rows;  // pixels (forward) or filter rows (backprop filter) per tile
  int cols;  // output channels per tile
  TileKernel kernel;
  StreamKernel stream;
  ScatterKernel scatter;
};

// The tile kernels of an ISA: `shapes` by preference; nullptr where the ISA is not compiled in.
struct TileSet {
  const char* name;
  Isa isa;  // whose GEMM epilogue finishes the forward tiles
  int lanes;
  int min_accumulators;  // vectors in flight that hide the FMA latency (pipes x latency)
  const TileShape* shapes;
  int count;
};
const TileSet* Avx512Tiles();
const TileSet* Avx2Tiles();
// The widest set ActiveIsa() allows, nullptr when there is none (generic builds).
const TileSet* ActiveTiles();

// Tile columns (output channels of the pass) below which the engine keeps to im2col: a
// narrower product leaves most of each vector empty.
constexpr int64_t kDirectMinColumns = 8;
// Input pixels below which the backprop input keeps to im2col: its direct passes lay out the
// whole filter transposed first, which deep layers of few pixels do not repay (measured on
// 1x7x7x512 -> 512 and 1x14x14x256 -> 256, 3x3: the Sgemm path was faster).
constexpr int64_t kDirectInputMinPixels = 256;

// How the lab pins a tile (zero: the engine's choice).
struct DirectOptions {
  int tile_rows = 0;
  int tile_cols = 0;
  int64_t chunk_pixels = 0;  // backprop filter: output pixels per block of the reduction
  int row_tiles = 0;         // forward: 1 tiles run across output rows, 2 tiles stay inside one
  int filter_mode = 0;       // backprop filter: 1 tile rows are filter rows, 2 output channels
  int input_mode = 0;        // backprop input: 1 the transposed forward, 2 the scatter
};

// The small-K forward (conv_smallk.cc): tiles of the GEMM kernel set's mr output pixels whose
// im2col rows are packed into a micro-panel, then one microkernel call per column panel over
// the whole reduction (the filter read in place) and the set's tile epilogue. Any geometry
// with 1 <= K = filter_h * filter_w * in_c <= kSmallKMax (SmallKFits), any out_c; sums in the
// direct engine's order (bit for bit the same results).
constexpr int64_t kSmallKMax = 128;
bool SmallKFits(const ConvGeometry& g);
// Where the engine takes it over the direct engine (measured; conv_lab.h): few input channels
// (at most kSmallKMaxChannels), so that the direct engine's segments (filter_w * in_c steps per
// filter row) are short (at most kSmallKMaxRow), at strides up to 2 (beyond, the input each
// tile reads outgrows the output it writes).
constexpr int64_t kSmallKMaxChannels = 4;
constexpr int64_t kSmallKMaxRow = 12;
bool SmallKPays(const ConvGeometry& g);
void SmallKForward(const gemm::KernelSet& ks, const ConvGeometry& g, const float* x, const float* filter, float* y,
                   const Epilogue& epilogue);

// The direct passes on a tile set (any geometry). The forward applies the epilogue per tile.
void DirectForward(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* x,
                   const float* filter, float* y, const Epilogue& epilogue);
// The backprop input runs the transposed forward (stride 1 only; dy as its input) where it
// adds little work and the filter is finite or no padding is read, else the scatter (any
// geometry, any values).
bool TransposedForwardFits(const ConvGeometry& g);
ConvGeometry TransposedGeometry(const ConvGeometry& g);
void DirectBackpropInput(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* dy,
                         const float* filter, float* dx);
void DirectBackpropFilter(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* x,
                          const float* dy, float* dfilter);
// The backprop filter's tile with output channels as rows (which must divide out_c, since a
// tile's rows read dy across its channels): nullptr where no tile fits (or the pinned one
// does not), and the pass takes filter rows as tile rows instead.
const TileShape* ChannelRowsShape(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g);
// Whether the backprop filter multiplies zeros for the padding (tiles spanning taps over a
// zero-padded copy of x): a product tfjs never forms, NaN where dy is not finite.
bool DirectBackpropFilterReadsZeros(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g);

// ---- Depthwise kernels (conv_depthwise_body.h, compiled per ISA) ----------------------------

constexpr int kMaxDepthwiseTaps = 9;

// A term of a row kernel's sums: the input `in` floats from a pixel's own base, times the
// double filter at `w`. The kernels take room for filter_h * filter_w * multiplier of them.
struct DepthwiseTerm {
  int64_t in;
  int64_t w;
};

struct DepthwiseKernels {
  const char* name;
  int block;  // channels per register block
  // y row oh (out_w x channels) of one image; `in` has input pixels `stride` floats apart
  // holding one value per output channel; `filter` is in double, [taps][channels].
  void (*forward_row)(const ConvGeometry& g, const float* in, int64_t stride, const double* filter, int64_t channels,
                      int64_t oh, float* y_row, DepthwiseTerm* terms);
  // dx row ih (in_w x channels) of one image; dy and the double filter hold `mul` planes of
  // `channels` values per pixel (per tap).
  void (*backprop_input_row)(const ConvGeometry& g, const float* dy, const double* filter, int64_t channels, int64_t mul,
                             int64_t ih, float* dx_row, DepthwiseTerm* terms);
  int max_taps;
  // dfilter [taps][channels] at the taps listed (backprop_filter[count - 1] takes count of
  // them) for channels [c0, c0 + count), count <= block; `in` as for forward_row.
  void (*backprop_filter[kMaxDepthwiseTaps])(const ConvGeometry& g, const float* in, int64_t stride, const float* dy,
                                             int64_t channels, const int64_t* tap, int64_t c0, int64_t count,
                                             float* dfilter);
};

const DepthwiseKernels& GenericDepthwise();
const DepthwiseKernels* Avx2Depthwise();
const DepthwiseKernels* Avx512Depthwise();

// Bias, then activation, on rows [row_begin, row_end) of the [rows, n] matrix c (global row
// indices, for the per-element operands), as tfjs's separate kernels round them.
void FinishRows(int64_t row_begin, int64_t row_end, int64_t n, float* c, const Epilogue& e);

// ---- The im2col passes (conv.cc): the path of CPUs without tile kernels, and the lab's ----
// baselines. They form the im2col matrix in blocks of `block_rows` output image rows.

// Row p of col (k = filter_h * filter_w * in_c floats, ordered like the filter) holds the
// inputs that output pixel first_pixel + p reads, zeros where it reads padding.
void Im2Col(const ConvGeometry& g, const float* x, int64_t first_pixel, int64_t pixels, float* col);
// dx += the columns of col (rows: output pixels of image rows [row_begin, row_end)) put back
// where Im2Col took them from; padding entries are dropped.
void Col2Im(const ConvGeometry& g, const float* col, int64_t row_begin, int64_t row_end, float* dx);

using GemmFn = void (*)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                        const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate, const Epilogue& epilogue);
// The block the engine uses: the largest that fits its reusable scratch buffer.
int64_t Im2ColBlockRows(const ConvGeometry& g);
void Im2ColForward(const ConvGeometry& g, const float* x, const float* filter, float* y, const Epilogue& epilogue,
                   int64_t block_rows, GemmFn gemm);
void Col2ImBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx, int64_t block_rows,
                         GemmFn gemm);
void Im2ColBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dfilter, int64_t block_rows,
                          GemmFn gemm);

// A 1x1 filter over every input position in order: the input already is the im2col matrix.
bool IsPointwise(const ConvGeometry& g);
// No Inf or NaN among the n values.
bool AllFinite(const float* p, int64_t n);

}  // namespace conv
}  // namespace tessera
