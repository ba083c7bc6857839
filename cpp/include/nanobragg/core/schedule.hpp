/// What every backend's scheduler shares: which pixels render, where the first one is (the only
/// evaluation that sees the stale-phi orientation, Q1) and the statistics a render returns.
/// NANOBRAGG_HD, like the physics: the CPU loop and the CUDA kernels include this one copy.
#pragma once
#include <cstdint>

#include "hd.hpp"
#include "params.hpp"

namespace nanobragg {

/// Figures of a render that the console summary reports, the same for every backend.
struct RenderStats {
  double omega_sum = 0;          // sum of per-evaluation solid angles (divide by steps)
  std::int64_t rendered = 0;     // pixels computed
  bool interpolation_switched_off = false;
  double switch_hkl[3] = {0, 0, 0};  // h, k, l of the evaluation that switched it off
  bool cancelled = false;
};

/// Inside the ROI (inclusive bounds) and not masked off.
template <typename Real>
NANOBRAGG_HD inline bool is_rendered(const SimParams<Real>& p, int f, int s) {
  if (f < p.roi_xmin || f > p.roi_xmax || s < p.roi_ymin || s > p.roi_ymax) return false;
  return !(p.mask && p.mask[std::int64_t(s) * p.fpixels + f] == 0);
}

/// Row-major index of the first rendered pixel, or -1 when none is.
template <typename Real>
NANOBRAGG_HD inline std::int64_t first_rendered_pixel(const SimParams<Real>& p) {
  for (int s = p.roi_ymin < 0 ? 0 : p.roi_ymin; s < p.spixels && s <= p.roi_ymax; ++s)
    for (int f = p.roi_xmin < 0 ? 0 : p.roi_xmin; f < p.fpixels && f <= p.roi_xmax; ++f)
      if (is_rendered(p, f, s)) return std::int64_t(s) * p.fpixels + f;
  return -1;
}

}  // namespace nanobragg
