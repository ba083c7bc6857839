/// The CPU backend of the amorphous model: rows in parallel around core/amorphous.hpp. nonBragg.c
/// carries its table look-up state from pixel to pixel in raster order; on a non-decreasing table
/// that state only matters on an exact tie, so rows render in parallel and a row whose look-ups
/// needed a state not yet known is rendered again, in order, once it is. A table whose stol
/// column goes back (shortwater.stol) is rendered row after row in the C's order (its walk
/// serial, the rest of each block of pixels in SIMD).
#include <vector>

#include "nanobragg/amorphous.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

// One copy of the row loop per instruction set, chosen at load time (as simulate_omp.cpp does).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define NANOBRAGG_AMORPHOUS_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define NANOBRAGG_AMORPHOUS_CLONES
#endif

namespace nanobragg {

namespace {
constexpr int kLanes = 16;  // more independent look-ups in flight than 8 (measured: 16 is faster)

NANOBRAGG_AMORPHOUS_CLONES
AmorphousRow render_row(const AmorphousParams<double>& p, int s, WalkState walk, float* image, LastEvaluation* last) {
  AmorphousRow r;
  if (s < p.roi_ymin || s > p.roi_ymax) {
    r.walk = walk;
    return r;
  }
  const std::int64_t row = std::int64_t(s) * p.fpixels;
  auto store = [&](int f, const AmorphousPixel<double>& px) {
    const std::int64_t i = row + f;
    image[i] = float(px.value);  // the C stores the double sum once, as a float
    r.omega_sum += px.omega_sum;
    ++r.rendered;
    if (last) {
      last->stol[i] = px.stol, last->polar[i] = px.polar, last->omega[i] = px.omega;
      last->nearest[i] = px.nearest;
    }
  };
  // A non-monotonic table needs the C's walk in order: blocks whose walk runs lane after lane.
  const bool lanes = p.corrected || p.table.monotonic;
  const bool in_order = !lanes && in_order_block_fits<kLanes>(p);
  const int f_end = p.roi_xmax < p.fpixels - 1 ? p.roi_xmax : p.fpixels - 1;
  int f = p.roi_xmin > 0 ? p.roi_xmin : 0;
  AmorphousPixel<double> block[kLanes];
  while (f <= f_end) {
    if (lanes && f + kLanes - 1 <= f_end && amorphous_block<kLanes>(p, f, s, walk, block)) {
      for (int w = 0; w < kLanes; ++w) store(f + w, block[w]);
      f += kLanes;
      continue;
    }
    if (in_order && f + kLanes - 1 <= f_end) {
      amorphous_block_in_order<kLanes>(p, f, s, walk, block);
      for (int w = 0; w < kLanes; ++w) store(f + w, block[w]);
      f += kLanes;
      continue;
    }
    // The lanes' look-ups tied with a table point (or too few pixels are left): in order.
    const int stop = lanes && f + kLanes - 1 <= f_end ? f + kLanes : f + 1;
    for (; f < stop; ++f) store(f, amorphous_pixel(p, f, s, walk));
  }
  r.walk = walk;
  return r;
}

/// The in-order pass over rows rendered independently (see finish_amorphous_rows).
void rerender_in_order(const AmorphousParams<double>& p, float* image, LastEvaluation* last,
                       std::vector<AmorphousRow>& out, AmorphousStats& st) {
  WalkState walk{0, 1, 0, 1};
  for (int s = 0; s < p.spixels; ++s) {
    AmorphousRow& r = out[std::size_t(s)];
    if (r.walk.unknown_used) {
      r = render_row(p, s, walk, image, last);
      ++st.serial_rows;
    }
    // A row that rendered anything ends in a known state (it looked up at least once).
    if (r.rendered > 0) walk = r.walk;
  }
}

void render_into(const AmorphousParams<double>& p, float* image, int threads, LastEvaluation* last,
                 std::vector<AmorphousRow>& out, AmorphousStats& st) {
  const int rows = p.spixels;
  if (!p.corrected && !p.table.monotonic) {
    WalkState walk{0, 1, 0, 1};
    for (int s = 0; s < rows; ++s) {
      out[std::size_t(s)] = render_row(p, s, walk, image, last);
      walk = out[std::size_t(s)].walk;
    }
    st.serial_rows = rows;
    return;
  }
#if defined(_OPENMP)
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#endif
  for (int s = 0; s < rows; ++s) {
    // Only the first row starts from the C's known state (nearest = 0).
    out[std::size_t(s)] = render_row(p, s, WalkState{0, s == 0 ? 1 : 0, 0, 1}, image, last);
  }
  (void)threads;
  if (!p.corrected) rerender_in_order(p, image, last, out, st);  // -corrected: no state
}

void add_row_stats(const std::vector<AmorphousRow>& rows, AmorphousStats& st) {
  for (const AmorphousRow& r : rows) {
    st.omega_sum += r.omega_sum;
    st.rendered += r.rendered;
  }
}
}  // namespace

AmorphousStats render_amorphous(const AmorphousSetup& setup, float* image, int threads, bool add,
                                LastEvaluation* last) {
  const AmorphousParams<double> p = setup.params();
  const std::size_t n = std::size_t(p.fpixels) * std::size_t(p.spixels);
  if (last) {
    last->stol.assign(n, 0.0), last->polar.assign(n, 0.0), last->omega.assign(n, 0.0);
    last->nearest.assign(n, 0);
  }
  std::vector<AmorphousRow> out(std::size_t(p.spixels > 0 ? p.spixels : 0));
  AmorphousStats st;
  if (add) {
    // A background on top of an image: the float sum of the two float images.
    std::vector<float> own(n, 0.0f);
    render_into(p, own.data(), threads, last, out, st);
    for (std::size_t i = 0; i < n; ++i) image[i] += own[i];
  } else {
    render_into(p, image, threads, last, out, st);
  }
  add_row_stats(out, st);
  return st;
}

void finish_amorphous_rows(const AmorphousSetup& setup, float* image, std::vector<AmorphousRow>& rows,
                           LastEvaluation* last, AmorphousStats& st) {
  const AmorphousParams<double> p = setup.params();
  if (!p.corrected && p.table.monotonic) rerender_in_order(p, image, last, rows, st);
  add_row_stats(rows, st);
}

}  // namespace nanobragg
