// The convolution kernel lab: the stages of the regular convolution engine kept side by side
// for each of its three passes, so that every step can be re-measured on any machine and
// checked against the references (Conv2DRef and its gradients).
//
// (filled in with the variants and the measurements once they are final)
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
