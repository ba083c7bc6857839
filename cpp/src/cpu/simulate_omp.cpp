/// The CPU backend: an OpenMP loop over detector rows around core/kernel.hpp. Its only jobs are
/// scheduling, the serial-order semantics of the C's shared interpolation switch, and cancellation.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "nanobragg/core/kernel.hpp"
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
template <typename Real>
bool is_rendered(const SimParams<Real>& p, int f, int s) {
  if (f < p.roi_xmin || f > p.roi_xmax || s < p.roi_ymin || s > p.roi_ymax) return false;
  return !(p.mask && p.mask[std::int64_t(s) * p.fpixels + f] == 0);
}

template <typename Real>
std::int64_t first_rendered_pixel(const SimParams<Real>& p) {
  for (int s = 0; s < p.spixels; ++s)
    for (int f = 0; f < p.fpixels; ++f)
      if (is_rendered(p, f, s)) return std::int64_t(s) * p.fpixels + f;
  return -1;
}

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
  auto store = [&](std::int64_t idx, Real v, bool switched, const double* hkl, double omega) {
    // Same as nanoBragg.c: the value is stored once, in the output precision.
    out[idx] = Out(v);
    r.omega_sum += omega;
    ++r.rendered;
    if (switched && idx < r.first_switch) {
      r.first_switch = idx;
      for (int i = 0; i < 3; ++i) r.switch_hkl[i] = hkl[i];
    }
  };
  int f = 0;
  while (f < p.fpixels) {
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

// Renders every row; pixels with index <= skip_upto are left alone.
// Returns the lowest pixel index that switched interpolation off (or INT64_MAX).
template <typename Real, typename Out>
std::int64_t render_rows(const SimParams<Real>& p, Out* out, int threads, RenderControl control,
                         bool interpolate, std::int64_t skip_upto, std::int64_t first_pixel,
                         double& omega_sum, std::int64_t& rendered, double* switch_hkl) {
  std::int64_t first_switch = std::numeric_limits<std::int64_t>::max();
  std::int64_t first_switch_seen = first_switch;  // guarded by the critical section below
  double omega = 0;
  std::int64_t count = 0;
  const int rows = p.spixels;
#if defined(_OPENMP)
  if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(+ : omega, count) \
    reduction(min : first_switch)
#endif
  for (int s = 0; s < rows; ++s) {
    if (control.cancel && control.cancel->load(std::memory_order_relaxed)) continue;
    const RowResult r = render_row(p, out, s, interpolate, skip_upto, first_pixel);
    omega += r.omega_sum;
    count += r.rendered;
    if (r.first_switch < first_switch) {
      first_switch = r.first_switch;
#if defined(_OPENMP)
#pragma omp critical(nanobragg_switch)
#endif
      if (r.first_switch < first_switch_seen) {  // rare: keep the h, k, l of the earliest switch
        first_switch_seen = r.first_switch;
        for (int i = 0; i < 3; ++i) switch_hkl[i] = r.switch_hkl[i];
      }
    }
    if (control.progress) control.progress->fetch_add(p.fpixels, std::memory_order_relaxed);
  }
  (void)threads;
  omega_sum += omega;
  rendered += count;
  return first_switch;
}
}  // namespace

template <typename Real, typename Out>
RenderStats render(const SimParams<Real>& p, Out* out, int threads, RenderControl control) {
  RenderStats stats;
  const std::int64_t first_pixel = first_rendered_pixel(p);
  const std::int64_t none = -1;
  const std::int64_t first_switch =
      render_rows(p, out, threads, control, p.interpolate != 0, none, first_pixel, stats.omega_sum, stats.rendered,
                  stats.switch_hkl);
  if (first_switch != std::numeric_limits<std::int64_t>::max()) {
    // The C turns interpolation off for everything rendered after the first out-of-range
    // evaluation (Q8, serial-order semantics): re-render every later pixel without it.
    // Solid angles and counts do not depend on interpolation, so the first pass's stats stand.
    stats.interpolation_switched_off = true;
    double omega_again = 0;
    std::int64_t count_again = 0;
    double unused[3];
    render_rows(p, out, threads, control, false, first_switch, first_pixel, omega_again, count_again, unused);
  }
  stats.cancelled = control.cancel && control.cancel->load();
  return stats;
}

template RenderStats render<double, double>(const SimParams<double>&, double*, int, RenderControl);
template RenderStats render<double, float>(const SimParams<double>&, float*, int, RenderControl);
template RenderStats render<float, float>(const SimParams<float>&, float*, int, RenderControl);
template RenderStats render<float, double>(const SimParams<float>&, double*, int, RenderControl);

}  // namespace nanobragg::cpu
