// The direct convolution engine's driver: it lays tiles over the problem, points each tile
// row at the NHWC data it reads and threads the tiles (see conv_kernels.h).
//
// Forward: a tile is `rows` consecutive output pixels times a panel of output channels; per
// filter row (per tap where filter columns are dilated), each pixel's stream is the window it
// reads there, or a row of zeros where it reads padding (filter rows that read padding for
// every pixel of the tile are left out). B is the filter, read in place, in blocks of filter
// rows small enough to stay in L2 while a batch of tiles passes over them.
//
// Backprop input: the transposed forward where dx adds little work, else the scatter (see
// BackpropInputByScatter).
//
// Backprop filter: output channels as tile rows (ChannelRowsPass) where the reduction is long,
// filter rows (FilterRowsPass) where it is short or the input channels few. Both run the
// reduction over output pixels in chunks of output rows whose inputs stay in L2 while every
// tile passes over them; threads take chunks as they come free, each summing into a copy of
// the gradient of its own.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/conv_kernels.h"
#include "cpu/gemm_kernels.h"

namespace tessera {
namespace conv {
namespace {

// Multiply-adds per parallel chunk below which a second thread costs more than it saves.
constexpr int64_t kMinChunkMacs = int64_t{1} << 17;
// Floats of one column panel of the filter that a batch of forward tiles streams together:
// 384 KiB, so that it stays in L2 beside the tiles' inputs.
constexpr int64_t kFilterBlockFloats = int64_t{96} << 10;
// Output pixels from which the backprop filter takes output channels as tile rows.
constexpr int64_t kChannelRowsMinPixels = 512;
// Forward tiles laid out at once, then run filter block by filter block.
constexpr int64_t kTileBatch = 32;
// The most work the transposed forward may add (dx pixels over dy pixels) before the backprop
// input scatters instead (whose adds into dx cost about a tenth of a tile's time).
constexpr double kTransposedForwardExtra = 1.1;
// Output pixels per block of the backprop-filter reduction (its inputs then take some tens
// of KiB per tile row, so a block's x and dy stay in L2 while every tile passes over them).
constexpr int64_t kFilterChunkPixels = 256;

// A per-thread buffer, grown on demand and kept.
template <typename T>
T* ThreadScratch(std::unique_ptr<T[]>& buffer, int64_t& capacity, int64_t count) {
  if (count > capacity) {
    buffer.reset();
    buffer.reset(new T[count]);
    capacity = count;
  }
  return buffer.get();
}

// dst[c * ldd + r] (= or +=) src[r * lds + c] for r < rows, c < cols: in square blocks, so
// that both sides move through whole cache lines; threaded over blocks of rows.
void Transpose(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst, int64_t ldd, bool add) {
  constexpr int64_t kBlock = 32;
  const int64_t blocks = (rows + kBlock - 1) / kBlock;
  ParallelFor(blocks, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, kBlock * cols)),
              [&](int64_t b0, int64_t b1) {
                for (int64_t r0 = b0 * kBlock; r0 < std::min(rows, b1 * kBlock); r0 += kBlock) {
                  const int64_t r1 = std::min(rows, r0 + kBlock);
                  for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
                    const int64_t c1 = std::min(cols, c0 + kBlock);
                    for (int64_t c = c0; c < c1; c++) {
                      float* d = dst + c * ldd;
                      if (add) {
                        for (int64_t r = r0; r < r1; r++) d[r] += src[r * lds + c];
                      } else {
                        for (int64_t r = r0; r < r1; r++) d[r] = src[r * lds + c];
                      }
                    }
                  }
                }
              });
}

// Whether tiles confined to output rows waste less than they save: they leave out the
// filter rows that read above or below the image, but the last tile of each output row runs
// part empty.
bool RowTilesPay(const ConvGeometry& g, int64_t rows) {
  const int64_t per_row = (g.out_w + rows - 1) / rows * rows;
  double empty = static_cast<double>(per_row - g.out_w) / per_row;
  // The share of (output row, filter row) pairs that read inside the image.
  int64_t inside = 0;
  for (int64_t oh = 0; oh < g.out_h; oh++) {
    for (int64_t kh = 0; kh < g.filter_h; kh++) {
      const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
      inside += ih >= 0 && ih < g.in_h;
    }
  }
  double skipped = 1.0 - static_cast<double>(inside) / std::max<int64_t>(1, g.out_h * g.filter_h);
  return skipped > empty;
}

// The tile for `cols` columns: the least padding in the last column panel, the earlier of the
// set's shapes (its preference) among equals. The lab may pin one instead.
const TileShape& PickShape(const TileSet& ts, const DirectOptions& o, int64_t cols) {
  if (o.tile_rows > 0 || o.tile_cols > 0) {
    for (int i = 0; i < ts.count; i++) {
      const TileShape& s = ts.shapes[i];
      if ((o.tile_rows == 0 || s.rows == o.tile_rows) && (o.tile_cols == 0 || s.cols == o.tile_cols)) return s;
    }
    throw Error(std::string("conv: no ") + ts.name + " tile of " + std::to_string(o.tile_rows) + "x" +
                std::to_string(o.tile_cols));
  }
  const TileShape* best = &ts.shapes[0];
  int64_t best_padded = 0;
  for (int i = 0; i < ts.count; i++) {
    const TileShape& s = ts.shapes[i];
    const int64_t padded = (cols + s.cols - 1) / s.cols * s.cols;
    if (i == 0 || padded < best_padded) {
      best = &s;
      best_padded = padded;
    }
  }
  return *best;
}

}  // namespace

void DirectForward(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* x,
                   const float* filter, float* y, const Epilogue& epilogue) {
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  const int64_t taps = g.filter_h * g.filter_w;
  if (pixels == 0 || g.out_c == 0) return;
  const TileShape& shape = PickShape(ts, o, g.out_c);
  const int64_t rows = shape.rows;
  // Tiles confined to one output row leave out whole filter rows that read padding above or
  // below the image; tiles running across rows waste no rows at the end of each image row.
  const bool row_tiles = o.row_tiles == 0 ? RowTilesPay(g, rows) : o.row_tiles == 2;
  const int64_t tiles_per_row = row_tiles ? (g.out_w + rows - 1) / rows : 0;
  const int64_t tiles = row_tiles ? g.batch * g.out_h * tiles_per_row : (pixels + rows - 1) / rows;
  const bool finish = epilogue.bias != nullptr || epilogue.activation != Activation::kNone;
  const gemm::KernelSet& ks = gemm::KernelsFor(ts.isa);
  // With undilated filter columns a filter row reads filter_w * in_c consecutive inputs: one
  // segment per filter row where every pixel of the tile reads it whole or not at all.
  const bool merge_taps = g.dilation_w == 1;
  const std::vector<float> zeros(std::max<int64_t>(g.filter_w * g.in_c, 1), 0.0f);
  const int64_t tap_row = g.filter_w * g.in_c;
  const int64_t window_h = (g.filter_h - 1) * g.dilation_h + 1, window_w = (g.filter_w - 1) * g.dilation_w + 1;
  // Segments of a tile inside the image: offsets from a pixel's window corner, filter rows.
  std::vector<int64_t> interior_in, interior_b;
  for (int64_t kh = 0; kh < g.filter_h; kh++) {
    for (int64_t kw = 0; kw < (merge_taps ? 1 : g.filter_w); kw++) {
      interior_in.push_back((kh * g.dilation_h * g.in_w + kw * g.dilation_w) * g.in_c);
      interior_b.push_back((kh * g.filter_w + kw) * g.in_c * g.out_c);
    }
  }
  const int64_t interior_segs = static_cast<int64_t>(interior_in.size());
  const int64_t interior_len = merge_taps ? tap_row : g.in_c;
  const int64_t tile_macs = rows * taps * g.in_c * g.out_c;
  // The filter rows one pass over a batch of tiles reads, a block of whole filter rows (so
  // that no segment is split) whose panel of columns stays in L2 while the tiles go by.
  const int64_t k = taps * g.in_c;
  const int64_t block_rows =
      std::max<int64_t>(1, kFilterBlockFloats / std::max<int64_t>(1, tap_row * shape.cols)) * tap_row;
  const int64_t blocks = (k + block_rows - 1) / block_rows;
  ParallelFor(tiles, std::max<int64_t>(1, kMinChunkMacs / std::max<int64_t>(tile_macs, 1)), [&](int64_t t0, int64_t t1) {
    const int64_t batch = std::min<int64_t>(kTileBatch, t1 - t0);
    thread_local std::unique_ptr<const float*[]> table_buffer;
    thread_local std::unique_ptr<const float*[]> base_buffer;
    thread_local std::unique_ptr<Segment[]> segment_buffer;
    thread_local std::unique_ptr<int64_t[]> offset_buffer;
    thread_local int64_t table_capacity = 0, base_capacity = 0, segment_capacity = 0, offset_capacity = 0;
    const float** tables = ThreadScratch(table_buffer, table_capacity, batch * taps * rows);
    const float** base = ThreadScratch(base_buffer, base_capacity, 2 * rows);
    const float** zero_rows = base + rows;
    Segment* all_segs = ThreadScratch(segment_buffer, segment_capacity, batch * taps);
    int64_t* all_b = ThreadScratch(offset_buffer, offset_capacity, batch * (taps + 3));
    int64_t* tile_p0 = all_b + batch * taps;
    int64_t* tile_count = tile_p0 + batch;
    int64_t* tile_nseg = tile_count + batch;
    int64_t ih0[kMaxTileRows], iw0[kMaxTileRows];
    const float* image[kMaxTileRows];
    for (int64_t i = 0; i < rows; i++) zero_rows[i] = zeros.data();
    for (int64_t first_tile = t0; first_tile < t1; first_tile += batch) {
      const int64_t batch_tiles = std::min(batch, t1 - first_tile);
      for (int64_t bt = 0; bt < batch_tiles; bt++) {
        const int64_t tile = first_tile + bt;
        const float** table = tables + bt * taps * rows;
        Segment* segs = all_segs + bt * taps;
        int64_t* seg_b = all_b + bt * taps;
        int64_t p0, count;
        if (row_tiles) {
          const int64_t ow0 = (tile % tiles_per_row) * rows;
          p0 = (tile / tiles_per_row) * g.out_w + ow0;
          count = std::min(rows, g.out_w - ow0);
        } else {
          p0 = tile * rows;
          count = std::min(rows, pixels - p0);
        }
        tile_p0[bt] = p0;
        tile_count[bt] = count;
        int64_t nseg = 0;
        bool placed = false;
        const int64_t ow_first = p0 % g.out_w;
        if (count == rows && ow_first + rows <= g.out_w) {
          // One output row: the pixels' windows are stride_w columns apart. Inside the image
          // they take the segments of any interior tile, moved to the first window.
          const int64_t oh = (p0 / g.out_w) % g.out_h, n = p0 / (g.out_w * g.out_h);
          const int64_t ih = oh * g.stride_h - g.pad_top;
          const int64_t iw = ow_first * g.stride_w - g.pad_left;
          if (ih >= 0 && ih + window_h <= g.in_h && iw >= 0 && iw + (rows - 1) * g.stride_w + window_w <= g.in_w) {
            const float* corner = x + ((n * g.in_h + ih) * g.in_w + iw) * g.in_c;
            const int64_t step = g.stride_w * g.in_c;
            for (int64_t s = 0; s < interior_segs; s++) {
              const float** a = table + s * rows;
              const float* first = corner + interior_in[s];
              for (int64_t i = 0; i < rows; i++) a[i] = first + i * step;
              seg_b[s] = interior_b[s];
              segs[s] = Segment{a, nullptr, interior_len};
            }
            nseg = interior_segs;
            placed = true;
          }
        }
        // Anywhere else: each pixel on its own, zeros where it reads padding. Rows past the
        // end repeat the last pixel: readable, never stored.
        bool whole_rows = merge_taps;
        if (!placed) {
          int64_t ow = ow_first, oh = (p0 / g.out_w) % g.out_h, n = p0 / (g.out_w * g.out_h);
          for (int64_t i = 0; i < rows; i++) {
            if (i > 0 && i < count && ++ow == g.out_w) {
              ow = 0;
              if (++oh == g.out_h) {
                oh = 0;
                n++;
              }
            }
            ih0[i] = oh * g.stride_h - g.pad_top;
            iw0[i] = ow * g.stride_w - g.pad_left;
            image[i] = x + n * g.in_h * g.in_w * g.in_c;
            whole_rows = whole_rows && iw0[i] >= 0 && iw0[i] + g.filter_w <= g.in_w;
          }
        }
        for (int64_t kh = 0; kh < g.filter_h && !placed; kh++) {
          bool any_row = false;
          for (int64_t i = 0; i < rows; i++) {
            const int64_t ih = ih0[i] + kh * g.dilation_h;
            const bool inside = ih >= 0 && ih < g.in_h;
            base[i] = inside ? image[i] + ih * g.in_w * g.in_c : nullptr;
            any_row = any_row || (inside && i < count);
          }
          if (!any_row) continue;
          if (whole_rows) {
            const float** a = table + nseg * rows;
            for (int64_t i = 0; i < rows; i++) a[i] = base[i] ? base[i] + iw0[i] * g.in_c : zero_rows[i];
            seg_b[nseg] = kh * tap_row * g.out_c;
            segs[nseg++] = Segment{a, nullptr, tap_row};
            continue;
          }
          for (int64_t kw = 0; kw < g.filter_w; kw++) {
            const float** a = table + nseg * rows;
            bool any = false;
            for (int64_t i = 0; i < rows; i++) {
              const int64_t iw = iw0[i] + kw * g.dilation_w;
              const bool inside = base[i] != nullptr && iw >= 0 && iw < g.in_w;
              a[i] = inside ? base[i] + iw * g.in_c : zero_rows[i];
              any = any || (inside && i < count);
            }
            if (!any) continue;
            seg_b[nseg] = (kh * g.filter_w + kw) * g.in_c * g.out_c;
            segs[nseg++] = Segment{a, nullptr, g.in_c};
          }
        }
        tile_nseg[bt] = nseg;
      }
      for (int64_t oc0 = 0; oc0 < g.out_c; oc0 += shape.cols) {
        const int64_t cols = std::min<int64_t>(shape.cols, g.out_c - oc0);
        for (int64_t bt = 0; bt < batch_tiles; bt++) {
          Segment* segs = all_segs + bt * taps;
          const int64_t* seg_b = all_b + bt * taps;
          for (int64_t s = 0; s < tile_nseg[bt]; s++) segs[s].b = filter + seg_b[s] + oc0;
        }
        // Filter block by filter block, every tile of the batch: a tile's segments run in
        // filter order, so each block takes the next run of them.
        int64_t next[kTileBatch] = {};
        for (int64_t blk = 0; blk < blocks; blk++) {
          const int64_t end_b = (blk + 1) * block_rows * g.out_c;
          for (int64_t bt = 0; bt < batch_tiles; bt++) {
            const int64_t* seg_b = all_b + bt * taps;
            int64_t s1 = next[bt];
            while (s1 < tile_nseg[bt] && seg_b[s1] < end_b) s1++;
            const bool last = blk + 1 == blocks;
            if (s1 == next[bt] && !(last && next[bt] == 0)) continue;
            float* c = y + tile_p0[bt] * g.out_c + oc0;
            shape.kernel(s1 - next[bt], all_segs + bt * taps + next[bt], 1, g.out_c, c, g.out_c, tile_count[bt], cols,
                         next[bt] > 0);
            next[bt] = s1;
          }
        }
        if (finish) {
          for (int64_t bt = 0; bt < batch_tiles; bt++) {
            ks.epilogue(epilogue, g.out_c, y + tile_p0[bt] * g.out_c + oc0, g.out_c, tile_p0[bt], oc0, tile_count[bt],
                        cols);
          }
        }
      }
    }
  });
}

ConvGeometry TransposedGeometry(const ConvGeometry& g) {
  // dx is the stride-1 forward of dy with the filter flipped in both taps and transposed in
  // its channels: dx[ih] sums dy[ih + pad - kh * d] * w[kh], which is the forward at the
  // flipped tap kh' = KH - 1 - kh with padding (KH - 1) * d - pad.
  ConvGeometry t = g;
  t.in_h = g.out_h;
  t.in_w = g.out_w;
  t.in_c = g.out_c;
  t.out_h = g.in_h;
  t.out_w = g.in_w;
  t.out_c = g.in_c;
  t.pad_top = (g.filter_h - 1) * g.dilation_h - g.pad_top;
  t.pad_left = (g.filter_w - 1) * g.dilation_w - g.pad_left;
  return t;
}

namespace {

// The transposed forward: the flipped, channel-transposed filter over dy.
void BackpropInputByForward(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* dy,
                            const float* filter, float* dx) {
  const int64_t taps = g.filter_h * g.filter_w;
  thread_local std::unique_ptr<float[]> flipped_buffer;
  thread_local int64_t flipped_capacity = 0;
  float* flipped = ThreadScratch(flipped_buffer, flipped_capacity, std::max<int64_t>(1, taps * g.in_c * g.out_c));
  for (int64_t tap = 0; tap < taps; tap++) {
    Transpose(filter + (taps - 1 - tap) * g.in_c * g.out_c, g.in_c, g.out_c, g.out_c, flipped + tap * g.in_c * g.out_c,
              g.in_c, false);
  }
  DirectForward(ts, o, TransposedGeometry(g), dy, flipped, dx, Epilogue());
}

// The product of dy with the transposed filter, tile by tile, each tile row added by the
// kernel straight into dx where its pixel reads the tile's tap: col2im without the col matrix.
// A tile is `rows` output pixels times a panel of (tap, input channel) columns; the terms that
// land in padding are formed and dropped, so no product tfjs skips reaches dx. Threads take bands of
// output rows, the even bands and then the odd ones: bands are tall enough that two of the
// same parity never add to the same input row.
void BackpropInputByScatter(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* dy,
                            const float* filter, float* dx) {
  const int64_t taps = g.filter_h * g.filter_w;
  const int64_t k = taps * g.in_c;
  const int64_t image_rows = g.batch * g.out_h;
  const int64_t dx_size = g.batch * g.in_h * g.in_w * g.in_c;
  ParallelFor(dx_size, 1 << 16, [&](int64_t begin, int64_t end) { std::fill(dx + begin, dx + end, 0.0f); });
  if (image_rows == 0 || g.out_w == 0 || k == 0 || g.out_c == 0) return;
  const TileShape& shape = PickShape(ts, o, std::min(k, g.in_c));
  const int64_t rows = shape.rows;
  thread_local std::unique_ptr<float[]> transposed_buffer;
  thread_local int64_t transposed_capacity = 0;
  float* wt = ThreadScratch(transposed_buffer, transposed_capacity, k * g.out_c);
  Transpose(filter, k, g.out_c, g.out_c, wt, k, false);
  // Band height: (KH - 1) * d < (band + 1) * stride keeps same-parity bands apart.
  const int64_t min_band = std::max<int64_t>(1, (g.filter_h - 1) * g.dilation_h / g.stride_h);
  const int64_t wanted = 4 * NumThreads();
  const int64_t band = std::max(min_band, image_rows / std::max<int64_t>(1, 2 * wanted));
  const int64_t bands = (image_rows + band - 1) / band;
  const int64_t pixel_macs = k * g.out_c;
  for (int parity = 0; parity < 2; parity++) {
    const int64_t count = (bands - parity + 1) / 2;
    ParallelFor(count, std::max<int64_t>(1, kMinChunkMacs / std::max<int64_t>(1, band * g.out_w * pixel_macs)),
                [&](int64_t b0, int64_t b1) {
      std::vector<const float*> table(rows);
      std::vector<float> tile(rows * shape.cols);
      std::vector<int64_t> ih0(rows), iw0(rows);
      std::vector<float*> corner(rows), places(rows);
      std::vector<float> junk(shape.cols);
      for (int64_t b = b0; b < b1; b++) {
        const int64_t r0 = (2 * b + parity) * band, r1 = std::min(image_rows, r0 + band);
        const int64_t p_end = r1 * g.out_w;
        for (int64_t p0 = r0 * g.out_w; p0 < p_end; p0 += rows) {
          const int64_t count_rows = std::min(rows, p_end - p0);
          for (int64_t i = 0; i < rows; i++) {
            const int64_t p = p0 + std::min(i, count_rows - 1);
            table[i] = dy + p * g.out_c;
            const int64_t row = p / g.out_w;
            ih0[i] = (row % g.out_h) * g.stride_h - g.pad_top;
            iw0[i] = (p % g.out_w) * g.stride_w - g.pad_left;
            corner[i] = dx + (row / g.out_h) * g.in_h * g.in_w * g.in_c;
          }
          for (int64_t k0 = 0; k0 < k; k0 += shape.cols) {
            const int64_t cols = std::min<int64_t>(shape.cols, k - k0);
            const Segment seg{table.data(), wt + k0, g.out_c};
            // A panel inside one tap: the kernel adds each row where its pixel reads the tap,
            // the rows reading padding into a row of its own that nothing reads.
            const int64_t panel_tap = k0 / g.in_c, panel_ic = k0 % g.in_c;
            if (panel_ic + cols <= g.in_c) {
              const int64_t dh = (panel_tap / g.filter_w) * g.dilation_h, dw = (panel_tap % g.filter_w) * g.dilation_w;
              for (int64_t i = 0; i < count_rows; i++) {
                const int64_t ih = ih0[i] + dh, iw = iw0[i] + dw;
                const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
                places[i] = inside ? corner[i] + (ih * g.in_w + iw) * g.in_c + panel_ic : junk.data();
              }
              shape.scatter(1, &seg, 1, k, places.data(), count_rows, cols);
              continue;
            }
            // Panels across taps (few input channels) go through a tile buffer.
            shape.kernel(1, &seg, 1, k, tile.data(), shape.cols, count_rows, cols, false);
            for (int64_t c = 0; c < cols;) {
              const int64_t tap = (k0 + c) / g.in_c, ic = (k0 + c) % g.in_c;
              const int64_t span = std::min(cols - c, g.in_c - ic);
              const int64_t dh = (tap / g.filter_w) * g.dilation_h, dw = (tap % g.filter_w) * g.dilation_w;
              for (int64_t i = 0; i < count_rows; i++) {
                const int64_t ih = ih0[i] + dh, iw = iw0[i] + dw;
                if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
                float* __restrict dst = corner[i] + (ih * g.in_w + iw) * g.in_c + ic;
                const float* __restrict src = tile.data() + i * shape.cols + c;
                for (int64_t j = 0; j < span; j++) dst[j] += src[j];
              }
              c += span;
            }
          }
        }
      }
    });
  }
}

}  // namespace

bool TransposedForwardFits(const ConvGeometry& g) { return g.stride_h == 1 && g.stride_w == 1; }

void DirectBackpropInput(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* dy,
                         const float* filter, float* dx) {
  if (o.input_mode == 1 && !TransposedForwardFits(g)) throw Error("conv: the transposed forward takes stride 1 only");
  bool by_forward = o.input_mode == 1;
  if (o.input_mode == 0 && TransposedForwardFits(g)) {
    // The transposed forward multiplies the padding around dy (zeros) by the filter: only for
    // a finite filter is that the nothing tfjs adds there. And it forms every product of dx's
    // pixels with every tap, padding included: worth it while that adds little to the work.
    const ConvGeometry t = TransposedGeometry(g);
    const double extra = static_cast<double>(g.in_h * g.in_w) / std::max<int64_t>(1, g.out_h * g.out_w);
    by_forward = extra <= kTransposedForwardExtra &&
                 (!ReadsPadding(t) || AllFinite(filter, g.filter_h * g.filter_w * g.in_c * g.out_c));
  }
  if (by_forward) {
    BackpropInputByForward(ts, o, g, dy, filter, dx);
  } else {
    BackpropInputByScatter(ts, o, g, dy, filter, dx);
  }
}

const TileShape* ChannelRowsShape(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g) {
  for (int i = 0; i < ts.count; i++) {
    const TileShape& s = ts.shapes[i];
    if (o.tile_rows > 0 && (s.rows != o.tile_rows || (o.tile_cols > 0 && s.cols != o.tile_cols))) continue;
    if (g.out_c % s.rows == 0 && (o.tile_rows > 0 || s.rows * s.cols / ts.lanes >= ts.min_accumulators)) return &s;
  }
  return nullptr;
}

namespace {

// Partial filter gradients, one per part of the reduction, summed into dfilter at the end.
struct Partials {
  int64_t parts, chunks, chunk_rows;
};

Partials SplitReduction(const ConvGeometry& g, const DirectOptions& o) {
  const int64_t image_rows = g.batch * g.out_h;
  const int64_t wanted_rows = std::max<int64_t>(1, (o.chunk_pixels > 0 ? o.chunk_pixels : kFilterChunkPixels) / g.out_w);
  const int64_t macs = image_rows * g.out_w * g.filter_h * g.filter_w * g.in_c * g.out_c;
  const int64_t parts = std::max<int64_t>(
      1, std::min<int64_t>({static_cast<int64_t>(NumThreads()), (image_rows + wanted_rows - 1) / wanted_rows,
                            macs / std::max<int64_t>(1, kMinChunkMacs * 8)}));
  // Chunks of about the wanted size, as many for every part.
  const int64_t per_part = (image_rows + parts * wanted_rows - 1) / (parts * wanted_rows);
  const int64_t chunk_rows = (image_rows + parts * per_part - 1) / (parts * per_part);
  return {parts, (image_rows + chunk_rows - 1) / chunk_rows, chunk_rows};
}

// The reduction's chunks spread over the pool as threads come free (one slowed by other work
// on the machine leaves more to the others), each thread summing into a buffer of its own,
// claimed with its first chunk: body(chunk, buffer, first), first while the buffer holds
// nothing yet. Returns the number of buffers claimed, from 0 on.
template <typename Body>
int64_t ChunksAcrossThreads(const Partials& split, Body body) {
  static std::atomic<uint64_t> calls{0};
  const uint64_t call = calls.fetch_add(1) + 1;
  std::atomic<int64_t> claimed{0};
  ParallelFor(split.chunks, split.parts > 1 ? 1 : split.chunks, [&](int64_t c0, int64_t c1) {
    thread_local uint64_t seen = 0;
    thread_local int64_t buffer = 0;
    thread_local bool written = false;
    if (seen != call) {
      seen = call;
      buffer = claimed.fetch_add(1);
      written = false;
    }
    for (int64_t chunk = c0; chunk < c1; chunk++) {
      body(chunk, buffer, !written);
      written = true;
    }
  });
  return claimed.load();
}

// Filter rows as tile rows (the layout of dfilter itself): tiles of consecutive (tap, in
// channel) rows, each reading its input stream through a pointer of its own.
void FilterRowsPass(const TileShape& shape, const Partials& split, const ConvGeometry& g, const float* x,
                    const float* dy, float* dfilter) {
  const int64_t taps = g.filter_h * g.filter_w;
  const int64_t k = taps * g.in_c;
  const int64_t size = k * g.out_c;
  const int64_t image_rows = g.batch * g.out_h;
  const int64_t rows = shape.rows;
  const int64_t k_tiles = (k + rows - 1) / rows;
  const int64_t panels = (g.out_c + shape.cols - 1) / shape.cols;
  // Tiles stay inside one tap when the channels divide into them; otherwise they read a
  // zero-padded copy of x wherever the geometry reads padding.
  const bool within_tap = g.in_c % rows == 0;
  ConvGeometry pg = g;
  const float* src = x;
  std::vector<float> padded;
  if (!within_tap && ReadsPadding(g)) {
    const int64_t top = std::max<int64_t>(0, g.pad_top), left = std::max<int64_t>(0, g.pad_left);
    const int64_t last_h = (g.out_h - 1) * g.stride_h - g.pad_top + (g.filter_h - 1) * g.dilation_h;
    const int64_t last_w = (g.out_w - 1) * g.stride_w - g.pad_left + (g.filter_w - 1) * g.dilation_w;
    pg.in_h = top + std::max(g.in_h, last_h + 1);
    pg.in_w = left + std::max(g.in_w, last_w + 1);
    pg.pad_top = g.pad_top - top;
    pg.pad_left = g.pad_left - left;
    padded.assign(g.batch * pg.in_h * pg.in_w * g.in_c, 0.0f);
    ParallelFor(g.batch * g.in_h, std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, g.in_w * g.in_c)),
                [&](int64_t begin, int64_t end) {
                  for (int64_t r = begin; r < end; r++) {
                    const int64_t n = r / g.in_h, ih = r % g.in_h;
                    std::copy(x + r * g.in_w * g.in_c, x + (r + 1) * g.in_w * g.in_c,
                              padded.data() + ((n * pg.in_h + top + ih) * pg.in_w + left) * g.in_c);
                  }
                });
    src = padded.data();
  }
  // Per tile row: its filter row and its offset from the input its output pixel's window
  // starts at (rows past the end repeat the last).
  std::vector<int64_t> row_kh(k_tiles * rows), row_delta(k_tiles * rows);
  for (int64_t r = 0; r < k_tiles * rows; r++) {
    const int64_t kr = std::min(r, k - 1);
    const int64_t tap = kr / g.in_c, ic = kr % g.in_c;
    row_kh[r] = tap / g.filter_w;
    row_delta[r] = (row_kh[r] * pg.dilation_h * pg.in_w + (tap % g.filter_w) * pg.dilation_w) * g.in_c + ic;
  }
  thread_local std::unique_ptr<float[]> partials_buffer;
  thread_local int64_t partials_capacity = 0;
  const int64_t threads = NumThreads();
  float* partials = ThreadScratch(partials_buffer, partials_capacity, std::max<int64_t>(1, (threads - 1) * size));
  const int64_t used = ChunksAcrossThreads(split, [&](int64_t chunk, int64_t buffer, bool first) {
    float* out = buffer == 0 ? dfilter : partials + (buffer - 1) * size;
    thread_local std::vector<const float*> table;
    thread_local std::vector<Segment> segs;
    thread_local std::vector<int64_t> seg_dy;
    table.resize(split.chunk_rows * rows);
    segs.resize(split.chunk_rows);
    seg_dy.resize(split.chunk_rows);
    const int64_t r0 = chunk * split.chunk_rows, r1 = std::min(image_rows, r0 + split.chunk_rows);
    for (int64_t kt = 0; kt < k_tiles; kt++) {
      const int64_t kr0 = kt * rows;
      const int64_t count = std::min(rows, k - kr0);
      const int64_t* delta = row_delta.data() + kr0;
      int64_t nseg = 0;
      for (int64_t r = r0; r < r1; r++) {
        const int64_t n = r / g.out_h, oh = r % g.out_h;
        int64_t begin = 0, end = g.out_w;
        if (within_tap) {
          const int64_t ih = oh * g.stride_h - g.pad_top + row_kh[kr0] * g.dilation_h;
          if (ih < 0 || ih >= g.in_h) continue;
          const Span span = ValidOutputColumns(g, (kr0 / g.in_c) % g.filter_w);
          begin = span.begin;
          end = span.end;
          if (begin == end) continue;
        }
        const float* window =
            src + ((n * pg.in_h + oh * pg.stride_h - pg.pad_top) * pg.in_w + begin * pg.stride_w - pg.pad_left) * g.in_c;
        const float** a = table.data() + nseg * rows;
        for (int64_t i = 0; i < rows; i++) a[i] = window + delta[i];
        seg_dy[nseg] = (r * g.out_w + begin) * g.out_c;
        segs[nseg++] = Segment{a, nullptr, end - begin};
      }
      for (int64_t pn = 0; pn < panels; pn++) {
        const int64_t oc0 = pn * shape.cols;
        const int64_t cols = std::min<int64_t>(shape.cols, g.out_c - oc0);
        for (int64_t s = 0; s < nseg; s++) segs[s].b = dy + seg_dy[s] + oc0;
        shape.kernel(nseg, segs.data(), pg.stride_w * g.in_c, g.out_c, out + kr0 * g.out_c + oc0, g.out_c, count,
                     cols, !first);
      }
    }
  });
  if (used > 1) {
    ParallelFor(size, 1 << 14, [&](int64_t begin, int64_t end) {
      for (int64_t p = 1; p < used; p++) {
        const float* partial = partials + (p - 1) * size;
        for (int64_t i = begin; i < end; i++) dfilter[i] += partial[i];
      }
    });
  }
}

// Output channels as tile rows: a tile is rows consecutive output channels (broadcast from
// one dy pixel, a single stream) times a panel of input channels of one tap (vectors of one
// input pixel), summed into dfilter transposed, [out_c][taps * in_c]. Tiles never span taps,
// so each segment is clipped to the columns its tap reads inside the image.
void ChannelRowsPass(const TileShape& shape, const Partials& split, const ConvGeometry& g, const float* x,
                     const float* dy, float* dfilter) {
  const int64_t taps = g.filter_h * g.filter_w;
  const int64_t k = taps * g.in_c;
  const int64_t size = k * g.out_c;
  const int64_t image_rows = g.batch * g.out_h;
  const int64_t rows = shape.rows;
  thread_local std::unique_ptr<float[]> transposed_buffer;
  thread_local int64_t transposed_capacity = 0;
  float* transposed = ThreadScratch(transposed_buffer, transposed_capacity, NumThreads() * size);
  const int64_t used = ChunksAcrossThreads(split, [&](int64_t chunk, int64_t buffer, bool first) {
    float* out = transposed + buffer * size;
    thread_local std::vector<Stream> segs;
    thread_local std::vector<int64_t> seg_dy, seg_x;
    segs.resize(split.chunk_rows);
    seg_dy.resize(split.chunk_rows);
    seg_x.resize(split.chunk_rows);
    const int64_t r0 = chunk * split.chunk_rows, r1 = std::min(image_rows, r0 + split.chunk_rows);
    for (int64_t tap = 0; tap < taps; tap++) {
      const int64_t kh = tap / g.filter_w, kw = tap % g.filter_w;
      const Span span = ValidOutputColumns(g, kw);
      int64_t nseg = 0;
      if (span.begin < span.end) {
        for (int64_t r = r0; r < r1; r++) {
          const int64_t n = r / g.out_h, oh = r % g.out_h;
          const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
          if (ih < 0 || ih >= g.in_h) continue;
          const int64_t iw = span.begin * g.stride_w - g.pad_left + kw * g.dilation_w;
          seg_dy[nseg] = (r * g.out_w + span.begin) * g.out_c;
          seg_x[nseg] = ((n * g.in_h + ih) * g.in_w + iw) * g.in_c;
          segs[nseg++].len = span.end - span.begin;
        }
      }
      for (int64_t ic0 = 0; ic0 < g.in_c; ic0 += shape.cols) {
        const int64_t cols = std::min<int64_t>(shape.cols, g.in_c - ic0);
        for (int64_t oc0 = 0; oc0 < g.out_c; oc0 += rows) {
          for (int64_t s = 0; s < nseg; s++) {
            segs[s].a = dy + seg_dy[s] + oc0;
            segs[s].b = x + seg_x[s] + ic0;
          }
          shape.stream(nseg, segs.data(), g.out_c, g.stride_w * g.in_c, out + oc0 * k + tap * g.in_c + ic0, k, rows,
                       cols, !first);
        }
      }
    }
  });
  for (int64_t p = 0; p < used; p++) Transpose(transposed + p * size, g.out_c, k, k, dfilter, g.out_c, p > 0);
}

}  // namespace

namespace {

// The channel-rows tile the pass runs, or nullptr for filter rows.
const TileShape* ChannelRowsChoice(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g) {
  const TileShape* channel_rows = o.filter_mode == 1 ? nullptr : ChannelRowsShape(ts, o, g);
  if (o.filter_mode == 2 && channel_rows == nullptr) {
    throw Error("conv: no tile with rows dividing " + std::to_string(g.out_c) + " output channels");
  }
  // Output channels as rows want input channels enough to fill the vectors of a tile, and a
  // reduction long enough to repay summing a transposed gradient (measured: from about 500
  // output pixels on).
  if (o.filter_mode == 2) return channel_rows;
  const bool pays = g.in_c >= (channel_rows ? channel_rows->cols / 2 : 0) &&
                    g.batch * g.out_h * g.out_w >= kChannelRowsMinPixels;
  return channel_rows != nullptr && pays ? channel_rows : nullptr;
}

}  // namespace

bool DirectBackpropFilterReadsZeros(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g) {
  return ChannelRowsChoice(ts, o, g) == nullptr && g.in_c % PickShape(ts, o, g.out_c).rows != 0 && ReadsPadding(g);
}

void DirectBackpropFilter(const TileSet& ts, const DirectOptions& o, const ConvGeometry& g, const float* x,
                          const float* dy, float* dfilter) {
  const int64_t size = g.filter_h * g.filter_w * g.in_c * g.out_c;
  if (size == 0) return;
  if (g.batch * g.out_h == 0 || g.out_w == 0) {
    std::fill(dfilter, dfilter + size, 0.0f);
    return;
  }
  const Partials split = SplitReduction(g, o);
  if (const TileShape* channel_rows = ChannelRowsChoice(ts, o, g)) {
    ChannelRowsPass(*channel_rows, split, g, x, dy, dfilter);
    return;
  }
  FilterRowsPass(PickShape(ts, o, g.out_c), split, g, x, dy, dfilter);
}

const TileSet* ActiveTiles() {
  switch (ActiveIsa()) {
    case Isa::kAvx512: return Avx512Tiles() ? Avx512Tiles() : Avx2Tiles();
    case Isa::kAvx2: return Avx2Tiles();
    default: return nullptr;
  }
}

}  // namespace conv
}  // namespace tessera
