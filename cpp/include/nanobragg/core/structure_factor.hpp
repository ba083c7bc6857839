/// Structure-factor lookup: nearest-neighbour table access and the tricubic (4-point Lagrange,
/// tensor product) interpolation of nanoBragg.c polint/polin2/polin3 (L3807-L3844, L2930-L3008).
#pragma once
#include <cmath>
#include <cstdint>
#include "hd.hpp"

namespace nanobragg {

/// A dense F table over [h_min, h_max] x [k_min, k_max] x [l_min, l_max], padded by one plane
/// on each axis as in the C: value (h, k, l) lives at ((h-h_min)*(k_range+1) + (k-k_min))*(l_range+1) + (l-l_min).
template <typename Real>
struct FTable {
  const Real* values;  // null when there is no table (hkls == 0)
  int h_min, h_max, k_min, k_max, l_min, l_max;
  int h_range, k_range, l_range;  // max - min + 1
  std::int64_t hkls;               // the C's "hkls": 0 means "no table, every F is default_F"
  Real default_F;

  NANOBRAGG_HD Real at(int h, int k, int l) const {
    return values[(std::int64_t(h - h_min) * (k_range + 1) + (k - k_min)) * (l_range + 1) + (l - l_min)];
  }
};

/// 4-point Lagrange interpolation at x through (xa[i], ya[i]); ports nanoBragg.c polint().
template <typename Real>
NANOBRAGG_HD inline Real polint(const Real* xa, const Real* ya, Real x) {
  const Real x0 = (x - xa[1]) * (x - xa[2]) * (x - xa[3]) * ya[0] /
                  ((xa[0] - xa[1]) * (xa[0] - xa[2]) * (xa[0] - xa[3]));
  const Real x1 = (x - xa[0]) * (x - xa[2]) * (x - xa[3]) * ya[1] /
                  ((xa[1] - xa[0]) * (xa[1] - xa[2]) * (xa[1] - xa[3]));
  const Real x2 = (x - xa[0]) * (x - xa[1]) * (x - xa[3]) * ya[2] /
                  ((xa[2] - xa[0]) * (xa[2] - xa[1]) * (xa[2] - xa[3]));
  const Real x3 = (x - xa[0]) * (x - xa[1]) * (x - xa[2]) * ya[3] /
                  ((xa[3] - xa[0]) * (xa[3] - xa[1]) * (xa[3] - xa[2]));
  return x0 + x1 + x2 + x3;
}

/// True when (h, k, l) is too close to the table edge for 4-point interpolation (the C's test).
template <typename Real>
NANOBRAGG_HD inline bool interpolation_out_of_range(const FTable<Real>& t, Real h, Real k, Real l) {
  return (h - Real(t.h_min) + Real(3)) > Real(t.h_range) || h - Real(2) < Real(t.h_min) ||
         (k - Real(t.k_min) + Real(3)) > Real(t.k_range) || k - Real(2) < Real(t.k_min) ||
         (l - Real(t.l_min) + Real(3)) > Real(t.l_range) || l - Real(2) < Real(t.l_min);
}

/// Tricubic interpolation of F at fractional (h, k, l); the caller checked the range first.
/// Same nesting as polin3(): interpolate along l, then k, then h.
template <typename Real>
NANOBRAGG_HD inline Real interpolate_F(const FTable<Real>& t, Real h, Real k, Real l) {
  const int h0 = int(floor(h)), k0 = int(floor(k)), l0 = int(floor(l));
  Real hd[4], kd[4], ld[4];
  for (int i = 0; i < 4; ++i) {
    hd[i] = Real(h0 - 1 + i);
    kd[i] = Real(k0 - 1 + i);
    ld[i] = Real(l0 - 1 + i);
  }
  Real along_k[4];
  for (int i = 0; i < 4; ++i) {
    Real along_l[4];
    for (int j = 0; j < 4; ++j) {
      Real ys[4];
      for (int m = 0; m < 4; ++m) ys[m] = t.at(h0 - 1 + i, k0 - 1 + j, l0 - 1 + m);
      along_l[j] = polint(ld, ys, l);
    }
    along_k[i] = polint(kd, along_l, k);
  }
  return polint(hd, along_k, h);
}

/// Lagrange weights of the 4 consecutive integer nodes x0-1 .. x0+2 at t (denominators -6, 2, -2, 6).
template <typename Real>
NANOBRAGG_HD inline void lagrange4_weights(Real t, int x0, Real* w) {
  const Real a = t - Real(x0 - 1), b = t - Real(x0), c = t - Real(x0 + 1), d = t - Real(x0 + 2);
  const Real sixth = Real(1) / Real(6), half = Real(0.5);
  w[0] = -(b * c * d) * sixth;
  w[1] = (a * c * d) * half;
  w[2] = -(a * b * d) * half;
  w[3] = (a * b * c) * sixth;
}

/// The same tricubic interpolation as interpolate_F() with the node weights computed once per
/// axis, equal to it up to rounding. The 4 table values along l are contiguous: each (h, k) row
/// is added to a 4-wide accumulator with weight wh * wk (SIMD-friendly), which is then weighted
/// along l once.
template <typename Real>
NANOBRAGG_HD inline Real interpolate_F_weighted(const FTable<Real>& t, Real h, Real k, Real l) {
  const int h0 = int(floor(h)), k0 = int(floor(k)), l0 = int(floor(l));
  Real wh[4], wk[4], wl[4];
  lagrange4_weights(h, h0, wh);
  lagrange4_weights(k, k0, wk);
  lagrange4_weights(l, l0, wl);
  const std::int64_t row_stride = t.l_range + 1, plane_stride = std::int64_t(t.k_range + 1) * row_stride;
  const Real* origin = t.values + std::int64_t(h0 - 1 - t.h_min) * plane_stride +
                       std::int64_t(k0 - 1 - t.k_min) * row_stride + (l0 - 1 - t.l_min);
  Real acc[4] = {Real(0), Real(0), Real(0), Real(0)};
  for (int i = 0; i < 4; ++i) {
    Real plane[4] = {Real(0), Real(0), Real(0), Real(0)};
    for (int j = 0; j < 4; ++j) {
      const Real* row = origin + i * plane_stride + j * row_stride;
      NANOBRAGG_SIMD
      for (int m = 0; m < 4; ++m) plane[m] += wk[j] * row[m];
    }
    for (int m = 0; m < 4; ++m) acc[m] += wh[i] * plane[m];
  }
  return (wl[0] * acc[0] + wl[1] * acc[1]) + (wl[2] * acc[2] + wl[3] * acc[3]);
}

/// Nearest-neighbour F: the table value when (h0, k0, l0) lies inside it, else default_F.
template <typename Real>
NANOBRAGG_HD inline Real nearest_F(const FTable<Real>& t, int h0, int k0, int l0) {
  if (t.hkls && h0 <= t.h_max && h0 >= t.h_min && k0 <= t.k_max && k0 >= t.k_min && l0 <= t.l_max &&
      l0 >= t.l_min) {
    return t.at(h0, k0, l0);
  }
  return t.default_F;
}

}  // namespace nanobragg
