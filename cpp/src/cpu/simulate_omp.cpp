/// The CPU backend: an OpenMP loop over detector rows around core/kernel.hpp. Its only jobs are
/// scheduling, the serial-order semantics of the C's shared interpolation switch, and cancellation.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <vector>

#include "nanobragg/core/kernel.hpp"
#include "nanobragg/core/schedule.hpp"
#include "nanobragg/cpu/simulate.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

// Runtime CPU dispatch for the hot row loop: one copy per instruction set, chosen at load time
// (ifunc), so wheels stay portable without -march=native.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define NANOBRAGG_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define NANOBRAGG_CLONES
#endif

namespace nanobragg::cpu {

namespace {
struct RowResult {
  double omega_sum = 0;
  std::int64_t rendered = 0;
  std::int64_t first_switch = std::numeric_limits<std::int64_t>::max();
  double switch_hkl[3] = {0, 0, 0};
};

// One detector row; pixels with index <= skip_upto are left alone.
template <int kLanes, typename Real, typename Out>
NANOBRAGG_FORCEINLINE RowResult render_row_impl(const SimParams<Real>& p, Out* out, int s, bool interpolate,
                                                std::int64_t skip_upto, std::int64_t first_pixel) {
  RowResult r;
  const std::int64_t row = std::int64_t(s) * p.fpixels;
  // Pixels after the row's first interpolation switch are stored but not counted: render()
  // renders them again without interpolation and counts them then.
  const std::int64_t none = std::numeric_limits<std::int64_t>::max();
  auto store = [&](std::int64_t idx, Real v, bool switched, const double* hkl, double omega) {
    // Same as nanoBragg.c: the value is stored once, in the output precision.
    out[idx] = Out(v);
    if (r.first_switch != none) return;
    r.omega_sum += omega;
    ++r.rendered;
    if (switched) {
      r.first_switch = idx;
      for (int i = 0; i < 3; ++i) r.switch_hkl[i] = hkl[i];
    }
  };
  int f = 0;
  while (f < p.fpixels && r.first_switch == none) {
    const std::int64_t idx = row + f;
    const bool block_ok = f + kLanes <= p.fpixels && idx > skip_upto &&
                          !(first_pixel >= idx && first_pixel < idx + kLanes);
    // Without a mask, a block inside the ROI renders every lane: no per-pixel tests.
    const bool whole = block_ok && !p.mask && f >= p.roi_xmin && f + kLanes - 1 <= p.roi_xmax &&
                       s >= p.roi_ymin && s <= p.roi_ymax;
    int lanes_rendered = whole ? kLanes : 0;
    bool rendered[kLanes];
    for (int w = 0; w < kLanes; ++w) rendered[w] = whole;
    if (block_ok && !whole) {
      for (int w = 0; w < kLanes; ++w) lanes_rendered += (rendered[w] = is_rendered(p, f + w, s));
    }
    if (block_ok && lanes_rendered > 1) {
      BlockState<kLanes> st;
      st.trace = nullptr;
      st.first_evaluation = false;
      bool any_switch = false;
      for (int w = 0; w < kLanes; ++w) st.interpolate[w] = interpolate;
      Real v[kLanes];
      pixel_block<Real, kLanes>(p, f, s, st, v);
      for (int w = 0; w < kLanes; ++w) any_switch |= st.switched_off[w];
      if (whole && !any_switch) {
        for (int w = 0; w < kLanes; ++w) out[idx + w] = Out(v[w]);
        for (int w = 0; w < kLanes; ++w) r.omega_sum += st.omega_sum[w];
        r.rendered += kLanes;
      } else {
        for (int w = 0; w < kLanes; ++w) {
          if (rendered[w]) {
            store(idx + w, v[w], st.switched_off[w], st.switch_hkl[w], st.omega_sum[w]);
          } else {
            out[idx + w] = Out(0);
          }
        }
      }
      f += kLanes;
      continue;
    }
    if (idx > skip_upto) {
      if (!is_rendered(p, f, s)) {
        out[idx] = Out(0);
      } else {
        PixelState st{nullptr, idx == first_pixel, interpolate, false, {0, 0, 0}, 0.0};
        const Real v = pixel_intensity(p, f, s, st);
        store(idx, v, st.switched_off, st.switch_hkl, st.omega_sum);
      }
    }
    ++f;
  }
  return r;
}

// Pixels rendered together in SIMD lanes: 8 (8 doubles fill an AVX-512 register, two AVX2 ones).
// With a single crystal orientation the per-pixel geometry dominates and its long dependency
// chains overlap better in 16 float lanes; with many orientations the lattice loop would spill
// registers at 16, so it stays at 8 (measured on AVX2: -10..16% and +8..16% respectively).
template <typename Real, typename Out>
NANOBRAGG_FORCEINLINE RowResult render_row_lanes(const SimParams<Real>& p, Out* out, int s, bool interpolate,
                                                 std::int64_t skip_upto, std::int64_t first_pixel) {
  if constexpr (sizeof(Real) == sizeof(float)) {
    if (p.phisteps * p.domains == 1) return render_row_impl<16>(p, out, s, interpolate, skip_upto, first_pixel);
  }
  return render_row_impl<8>(p, out, s, interpolate, skip_upto, first_pixel);
}

#define NANOBRAGG_ROW(Real, Out)                                                                       \
  NANOBRAGG_CLONES RowResult render_row(const SimParams<Real>& p, Out* out, int s, bool interpolate,    \
                                        std::int64_t skip_upto, std::int64_t first_pixel) {             \
    return render_row_lanes(p, out, s, interpolate, skip_upto, first_pixel);                            \
  }
NANOBRAGG_ROW(double, double)
NANOBRAGG_ROW(double, float)
NANOBRAGG_ROW(float, float)
NANOBRAGG_ROW(float, double)
#undef NANOBRAGG_ROW

// Renders every row; pixels with index <= skip_upto are left alone. With interpolation on, a
// row starting after the earliest switch seen so far is skipped, and a row stops at its own
// first switch: everything after the render's first switch is rendered again without
// interpolation (render() below), so that work would be thrown away.
template <typename Real, typename Out>
std::vector<RowResult> render_rows(const SimParams<Real>& p, Out* out, int threads, RenderControl control,
                                   bool interpolate, std::int64_t skip_upto, std::int64_t first_pixel) {
  std::vector<RowResult> results(std::size_t(p.spixels));
  std::atomic<std::int64_t> earliest_switch{std::numeric_limits<std::int64_t>::max()};
  const int rows = p.spixels;
#if defined(_OPENMP)
  if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
  for (int s = 0; s < rows; ++s) {
    if (control.cancel && control.cancel->load(std::memory_order_relaxed)) continue;
    if (interpolate && std::int64_t(s) * p.fpixels > earliest_switch.load(std::memory_order_relaxed)) continue;
    const RowResult r = render_row(p, out, s, interpolate, skip_upto, first_pixel);
    results[std::size_t(s)] = r;
    std::int64_t seen = earliest_switch.load(std::memory_order_relaxed);
    while (r.first_switch < seen && !earliest_switch.compare_exchange_weak(seen, r.first_switch)) {
    }
    if (control.progress) control.progress->fetch_add(p.fpixels, std::memory_order_relaxed);
  }
  (void)threads;
  return results;
}

// Adds the rows' solid angles and pixel counts in row order (the same sum for any thread count).
void add_rows(const std::vector<RowResult>& rows, std::size_t n, RenderStats& stats) {
  for (std::size_t s = 0; s < n; ++s) {
    stats.omega_sum += rows[s].omega_sum;
    stats.rendered += rows[s].rendered;
  }
}
}  // namespace

template <typename Real, typename Out>
RenderStats render(const SimParams<Real>& p, Out* out, int threads, RenderControl control) {
  RenderStats stats;
  const std::int64_t first_pixel = first_rendered_pixel(p);
  const std::vector<RowResult> first = render_rows(p, out, threads, control, p.interpolate != 0, -1, first_pixel);
  std::size_t switch_row = first.size();
  for (std::size_t s = 0; s < first.size() && switch_row == first.size(); ++s) {
    if (first[s].first_switch != std::numeric_limits<std::int64_t>::max()) switch_row = s;
  }
  if (switch_row == first.size()) {
    add_rows(first, first.size(), stats);
  } else {
    // The C turns interpolation off for everything rendered after the first out-of-range
    // evaluation (Q8, serial-order semantics): every later pixel is rendered again without it.
    // Rows up to the switch counted their pixels up to and including it; the second pass
    // counts the rest.
    stats.interpolation_switched_off = true;
    const RowResult& sw = first[switch_row];
    for (int i = 0; i < 3; ++i) stats.switch_hkl[i] = sw.switch_hkl[i];
    add_rows(first, switch_row + 1, stats);
    const std::vector<RowResult> again = render_rows(p, out, threads, control, false, sw.first_switch, first_pixel);
    add_rows(again, again.size(), stats);
  }
  stats.cancelled = control.cancel && control.cancel->load();
  return stats;
}

template RenderStats render<double, double>(const SimParams<double>&, double*, int, RenderControl);
template RenderStats render<double, float>(const SimParams<double>&, float*, int, RenderControl);
template RenderStats render<float, float>(const SimParams<float>&, float*, int, RenderControl);
template RenderStats render<float, double>(const SimParams<float>&, double*, int, RenderControl);

}  // namespace nanobragg::cpu
