/// Structure-factor lookup: nearest-neighbour table access and the tricubic (4-point Lagrange,
/// tensor product) interpolation of nanoBragg.c polint/polin2/polin3 (L3807-L3844, L2930-L3008).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include "hd.hpp"

namespace nanobragg {

/// Four Reals in one SIMD register: a GCC/Clang vector on the host (loops over 4 elements were
/// split and spilled by the vectorizer), a plain struct with the same operators on the GPU.
#if defined(__GNUC__) && !defined(__CUDACC__)
template <typename Real>
struct QuadOf {
  typedef Real type __attribute__((vector_size(4 * sizeof(Real))));
};
template <typename Real>
using Quad = typename QuadOf<Real>::type;
template <typename Real>
NANOBRAGG_FORCEINLINE void load_quad(const Real* p, Quad<Real>& v) {  // out-parameter: no vector ABI
  std::memcpy(&v, p, sizeof v);
}
#else
template <typename Real>
struct Quad {
  Real v[4];
  NANOBRAGG_HD Real operator[](int i) const { return v[i]; }
  NANOBRAGG_HD friend Quad operator*(Real s, const Quad& q) { return {{s * q.v[0], s * q.v[1], s * q.v[2], s * q.v[3]}}; }
  NANOBRAGG_HD friend Quad operator+(const Quad& a, const Quad& b) {
    return {{a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2], a.v[3] + b.v[3]}};
  }
};
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void load_quad(const Real* p, Quad<Real>& v) {
  v = {{p[0], p[1], p[2], p[3]}};
}
#endif

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

/// The negation of interpolation_out_of_range() except that NaN indices count as outside (the C's
/// test lets them through): the four nodes along every axis lie inside the table.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE bool interpolation_inside(const FTable<Real>& t, Real h, Real k, Real l) {
  return ((h - Real(t.h_min) + Real(3)) <= Real(t.h_range)) & (h - Real(2) >= Real(t.h_min)) &
         ((k - Real(t.k_min) + Real(3)) <= Real(t.k_range)) & (k - Real(2) >= Real(t.k_min)) &
         ((l - Real(t.l_min) + Real(3)) <= Real(t.l_range)) & (l - Real(2) >= Real(t.l_min));
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

/// Lagrange weights at t of the 4 consecutive integer nodes n-1 .. n+2 (denominators -6, 2, -2, 6);
/// n is an integer held in Real, so n - 1 .. n + 2 are exact.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void lagrange4_weights(Real t, Real n, Real& w0, Real& w1, Real& w2, Real& w3) {
  const Real a = t - (n - Real(1)), b = t - n, c = t - (n + Real(1)), d = t - (n + Real(2));
  const Real sixth = Real(1) / Real(6), half = Real(0.5);
  w0 = -(b * c * d) * sixth;
  w1 = (a * c * d) * half;
  w2 = -(a * b * d) * half;
  w3 = (a * b * c) * sixth;
}

/// The 4x4x4 weighted sum of the table values from origin (the corner h0-1, k0-1, l0-1) with the
/// per-axis Lagrange weights: the 4 values along l are contiguous, so each (h, k) row is added to
/// a 4-wide plane sum with weight wk, each plane to a 4-wide total with weight wh, and the total is
/// weighted along l once. Sums start from their first term rather than from 0 (the two differ only
/// for x = -0, and F is used squared).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real tricubic_sum(const Real* origin, std::int64_t plane_stride,
                                                    std::int64_t row_stride, const Real* wh, const Real* wk,
                                                    const Real* wl) {
  Quad<Real> acc, values;
  for (int i = 0; i < 4; ++i) {
    const Real* row = origin + i * plane_stride;
    load_quad(row, values);
    Quad<Real> plane = wk[0] * values;
    for (int j = 1; j < 4; ++j) {
      load_quad(row + j * row_stride, values);
      plane = plane + wk[j] * values;
    }
    acc = i == 0 ? wh[0] * plane : acc + wh[i] * plane;
  }
  return (wl[0] * acc[0] + wl[1] * acc[1]) + (wl[2] * acc[2] + wl[3] * acc[3]);
}

/// The same tricubic interpolation as interpolate_F() with the node weights computed once per
/// axis, equal to it up to rounding.
template <typename Real>
NANOBRAGG_HD inline Real interpolate_F_weighted(const FTable<Real>& t, Real h, Real k, Real l) {
  const int h0 = int(floor(h)), k0 = int(floor(k)), l0 = int(floor(l));
  Real wh[4], wk[4], wl[4];
  lagrange4_weights(h, Real(h0), wh[0], wh[1], wh[2], wh[3]);
  lagrange4_weights(k, Real(k0), wk[0], wk[1], wk[2], wk[3]);
  lagrange4_weights(l, Real(l0), wl[0], wl[1], wl[2], wl[3]);
  const std::int64_t row_stride = t.l_range + 1, plane_stride = std::int64_t(t.k_range + 1) * row_stride;
  const Real* origin = t.values + std::int64_t(h0 - 1 - t.h_min) * plane_stride +
                       std::int64_t(k0 - 1 - t.k_min) * row_stride + (l0 - 1 - t.l_min);
  return tricubic_sum(origin, plane_stride, row_stride, wh, wk, wl);
}

/// floor(x) without a library call (so loops over it vectorize): round to nearest by the magic
/// constant, then step down where that went up. Exact for |x| < 2^51 (2^22 in float).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real floor_small(Real x) {
  const Real magic = sizeof(Real) == sizeof(float) ? Real(12582912.0) : Real(6755399441055744.0);
  const Real n = (x + magic) - magic;
  return n - Real(n > x);
}

/// Nodes floor(x) and their Lagrange weights for W lanes (a SIMD loop).
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void lagrange4_weights_lanes(const Real (&x)[W], Real (&wx)[4][W], int (&x0)[W]) {
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) {
    const Real n = floor_small(x[w]);
    lagrange4_weights(x[w], n, wx[0][w], wx[1][w], wx[2][w], wx[3][w]);
    x0[w] = int(n);
  }
}

/// interpolate_F_weighted() for W lanes: the range test, floors and weights run across lanes (SIMD),
/// the 64-value sums per lane. Returns false, computing nothing, unless every lane is inside the
/// table by the C's test (a NaN index counts as outside), so the caller's per-lane path can switch
/// interpolation off exactly where the C does. Same values as interpolate_F_weighted(), bit for bit.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE bool interpolate_F_lanes(const FTable<Real>& t, const Real (&h)[W],
                                                           const Real (&k)[W], const Real (&l)[W], Real (&F)[W]) {
  Real wh[4][W], wk[4][W], wl[4][W];
  int h0[W], k0[W], l0[W];
  int lane_inside[W];
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) lane_inside[w] = int(interpolation_inside(t, h[w], k[w], l[w]));
  int inside = 1;
  for (int w = 0; w < W; ++w) inside &= lane_inside[w];
  if (!inside) return false;
  lagrange4_weights_lanes(h, wh, h0);
  lagrange4_weights_lanes(k, wk, k0);
  lagrange4_weights_lanes(l, wl, l0);
  const std::int64_t row_stride = t.l_range + 1, plane_stride = std::int64_t(t.k_range + 1) * row_stride;
  for (int w = 0; w < W; ++w) {
    const Real* origin = t.values + std::int64_t(h0[w] - 1 - t.h_min) * plane_stride +
                         std::int64_t(k0[w] - 1 - t.k_min) * row_stride + (l0[w] - 1 - t.l_min);
    const Real wh_w[4] = {wh[0][w], wh[1][w], wh[2][w], wh[3][w]};
    const Real wk_w[4] = {wk[0][w], wk[1][w], wk[2][w], wk[3][w]};
    const Real wl_w[4] = {wl[0][w], wl[1][w], wl[2][w], wl[3][w]};
    F[w] = tricubic_sum(origin, plane_stride, row_stride, wh_w, wk_w, wl_w);
  }
  return true;
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
