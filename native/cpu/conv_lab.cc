// Variants of the convolution lab (see conv_lab.h for the list and how to run them).
#include "cpu/conv_lab.h"

#include <algorithm>
#include <string>

#include "core/errors.h"
#include "cpu/conv_kernels.h"
#include "cpu/gemm.h"
#include "cpu/gemm_kernels.h"
#include "cpu/isa.h"

namespace tessera {
namespace {

enum Variant {
  kNaive = 0,
  kIm2ColRef,
  kIm2ColWhole,
  kIm2ColBlocked,
  kPointwise,
  kDirectAvx2,
  kDirectAvx512,
  kEngine,
  kSmallK,
  kVariantCount
};

const char* const kNames[kVariantCount] = {"naive",         "im2col+ref-gemm", "im2col-whole",  "im2col-blocked",
                                           "pointwise-gemm", "direct-avx2",     "direct-avx512", "engine",
                                           "smallk-packed"};

// The seven loops straight from the definition, float accumulation, no skipping tricks.
void NaiveForward(const ConvGeometry& g, const float* x, const float* w, float* y) {
  for (int64_t n = 0; n < g.batch; n++)
    for (int64_t oh = 0; oh < g.out_h; oh++)
      for (int64_t ow = 0; ow < g.out_w; ow++)
        for (int64_t oc = 0; oc < g.out_c; oc++) {
          float sum = 0.0f;
          for (int64_t kh = 0; kh < g.filter_h; kh++)
            for (int64_t kw = 0; kw < g.filter_w; kw++)
              for (int64_t ic = 0; ic < g.in_c; ic++) {
                int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
                int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
                if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
                sum += x[((n * g.in_h + ih) * g.in_w + iw) * g.in_c + ic] *
                       w[((kh * g.filter_w + kw) * g.in_c + ic) * g.out_c + oc];
              }
          y[((n * g.out_h + oh) * g.out_w + ow) * g.out_c + oc] = sum;
        }
}

// The same loops scattering into dx and dfilter.
void NaiveBackprop(const ConvGeometry& g, const float* x, const float* w, const float* dy, float* dx, float* dw) {
  if (dx) std::fill(dx, dx + g.batch * g.in_h * g.in_w * g.in_c, 0.0f);
  if (dw) std::fill(dw, dw + g.filter_h * g.filter_w * g.in_c * g.out_c, 0.0f);
  for (int64_t n = 0; n < g.batch; n++)
    for (int64_t oh = 0; oh < g.out_h; oh++)
      for (int64_t ow = 0; ow < g.out_w; ow++)
        for (int64_t kh = 0; kh < g.filter_h; kh++)
          for (int64_t kw = 0; kw < g.filter_w; kw++) {
            int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
            int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
            if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
            const float* d = dy + ((n * g.out_h + oh) * g.out_w + ow) * g.out_c;
            for (int64_t ic = 0; ic < g.in_c; ic++) {
              int64_t xi = ((n * g.in_h + ih) * g.in_w + iw) * g.in_c + ic;
              int64_t wi = ((kh * g.filter_w + kw) * g.in_c + ic) * g.out_c;
              for (int64_t oc = 0; oc < g.out_c; oc++) {
                if (dx) dx[xi] += d[oc] * w[wi + oc];
                if (dw) dw[wi + oc] += d[oc] * x[xi];
              }
            }
          }
}

const conv::TileSet* TilesOf(int variant) {
  const conv::TileSet* ts = variant == kDirectAvx2 ? conv::Avx2Tiles() : conv::Avx512Tiles();
  Isa isa = variant == kDirectAvx2 ? Isa::kAvx2 : Isa::kAvx512;
  if (ts == nullptr || static_cast<int>(isa) > static_cast<int>(ActiveIsa())) {
    throw Error(std::string("convLab: variant ") + kNames[variant] + " is not available on this CPU");
  }
  return ts;
}

// The small-K variant's GEMM kernel sets, the active ISA's first (the one the engine runs).
std::vector<const gemm::KernelSet*> SmallKSets() {
  std::vector<const gemm::KernelSet*> sets;
  if (ActiveIsa() >= Isa::kAvx512) {
    for (const gemm::KernelSet* ks : {gemm::Avx512Kernels(), gemm::Avx512Kernels14x32(), gemm::Avx512Kernels8x48()}) {
      if (ks != nullptr) sets.push_back(ks);
    }
  }
  if (ActiveIsa() >= Isa::kAvx2 && gemm::Avx2Kernels() != nullptr) sets.push_back(gemm::Avx2Kernels());
  return sets;
}

std::string TileName(const gemm::KernelSet& ks) { return std::to_string(ks.mr) + "x" + std::to_string(ks.nr); }

}  // namespace

std::vector<ConvLabVariant> ConvLabVariants(ConvPass pass) {
  std::vector<ConvLabVariant> out;
  for (int v = 0; v < kVariantCount; v++) {
    bool available = true;
    if (v == kDirectAvx2) available = conv::Avx2Tiles() != nullptr && ActiveIsa() >= Isa::kAvx2;
    if (v == kDirectAvx512) available = conv::Avx512Tiles() != nullptr && ActiveIsa() >= Isa::kAvx512;
    std::vector<std::string> tiles;
    if (v == kSmallK) {
      for (const gemm::KernelSet* ks : SmallKSets()) tiles.push_back(TileName(*ks));
      available = !tiles.empty();
    }
    const conv::TileSet* ts = v == kDirectAvx2 ? conv::Avx2Tiles() : v == kDirectAvx512 ? conv::Avx512Tiles() : nullptr;
    for (int i = 0; ts != nullptr && i < ts->count; i++) {
      tiles.push_back(std::to_string(ts->shapes[i].rows) + "x" + std::to_string(ts->shapes[i].cols));
    }
    out.push_back({kNames[v], available, tiles});
  }
  return out;
}

bool ConvLab(ConvPass pass, int variant, const ConvGeometry& g, const float* a, const float* b, float* out,
             const ConvLabOptions& options) {
  if (variant < 0 || variant >= kVariantCount) throw Error("convLab: no variant " + std::to_string(variant));
  const int64_t image_rows = std::max<int64_t>(1, g.batch * g.out_h);
  const int64_t block = options.block_rows > 0 ? options.block_rows : conv::Im2ColBlockRows(g);
  conv::DirectOptions direct;
  direct.tile_rows = options.tile_rows;
  direct.tile_cols = options.tile_cols;
  direct.chunk_pixels = options.chunk_pixels;
  direct.row_tiles = options.row_tiles;
  direct.filter_mode = options.filter_mode;
  direct.input_mode = options.input_mode;
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  switch (variant) {
    case kNaive:
      if (pass == ConvPass::kForward) NaiveForward(g, a, b, out);
      if (pass == ConvPass::kBackpropInput) NaiveBackprop(g, nullptr, b, a, out, nullptr);
      if (pass == ConvPass::kBackpropFilter) NaiveBackprop(g, a, nullptr, b, nullptr, out);
      return true;
    case kIm2ColRef:
    case kIm2ColWhole:
    case kIm2ColBlocked: {
      const conv::GemmFn gemm = variant == kIm2ColRef ? &SgemmRef : &Sgemm;
      const int64_t rows = variant == kIm2ColBlocked ? block : image_rows;
      if (pass == ConvPass::kForward) conv::Im2ColForward(g, a, b, out, Epilogue(), rows, gemm);
      if (pass == ConvPass::kBackpropInput) conv::Col2ImBackpropInput(g, a, b, out, rows, gemm);
      if (pass == ConvPass::kBackpropFilter) conv::Im2ColBackpropFilter(g, a, b, out, rows, gemm);
      return true;
    }
    case kPointwise:
      if (!conv::IsPointwise(g)) return false;
      if (pass == ConvPass::kForward) Sgemm(false, false, pixels, g.out_c, g.in_c, a, g.in_c, b, g.out_c, out, g.out_c);
      if (pass == ConvPass::kBackpropInput) Sgemm(false, true, pixels, g.in_c, g.out_c, a, g.out_c, b, g.out_c, out, g.in_c);
      if (pass == ConvPass::kBackpropFilter) Sgemm(true, false, g.in_c, g.out_c, pixels, a, g.in_c, b, g.out_c, out, g.out_c);
      return true;
    case kDirectAvx2:
    case kDirectAvx512: {
      const conv::TileSet& ts = *TilesOf(variant);
      if (pass == ConvPass::kForward) conv::DirectForward(ts, direct, g, a, b, out, Epilogue());
      if (pass == ConvPass::kBackpropInput) {
        if (direct.input_mode == 1 && !conv::TransposedForwardFits(g)) return false;
        conv::DirectBackpropInput(ts, direct, g, a, b, out);
      }
      if (pass == ConvPass::kBackpropFilter) {
        if (direct.filter_mode == 2 && conv::ChannelRowsShape(ts, direct, g) == nullptr) return false;
        conv::DirectBackpropFilter(ts, direct, g, a, b, out);
      }
      return true;
    }
    case kSmallK: {
      const std::vector<const gemm::KernelSet*> sets = SmallKSets();
      if (sets.empty()) throw Error(std::string("convLab: variant ") + kNames[variant] + " is not available on this CPU");
      const gemm::KernelSet* ks = nullptr;
      for (const gemm::KernelSet* s : sets) {
        if ((options.tile_rows == 0 || s->mr == options.tile_rows) && (options.tile_cols == 0 || s->nr == options.tile_cols)) {
          ks = s;
          break;
        }
      }
      if (ks == nullptr) {
        throw Error("convLab: no small-K tile of " + std::to_string(options.tile_rows) + "x" +
                    std::to_string(options.tile_cols));
      }
      if (pass != ConvPass::kForward || !conv::SmallKFits(g) || g.filter_h * g.filter_w * g.in_c == 0) return false;
      conv::SmallKForward(*ks, g, a, b, out, Epilogue());
      return true;
    }
    case kEngine:
    default:
      if (pass == ConvPass::kForward) Conv2D(g, a, b, out, Epilogue());
      if (pass == ConvPass::kBackpropInput) Conv2DBackpropInput(g, a, b, out);
      if (pass == ConvPass::kBackpropFilter) Conv2DBackpropFilter(g, a, b, out);
      return true;
  }
}

}  // namespace tessera
