/// pixel_intensity(): the whole per-pixel computation of nanoBragg.c (L2568-L3049), shared by the
/// CPU and CUDA backends. Loop order and arithmetic follow the C so float64 results match it.
#pragma once
#include <cmath>
#include <cstdint>
#include "hd.hpp"
#include "lattice.hpp"
#include "params.hpp"
#include "fastmath.hpp"
#include "polarization.hpp"
#include "structure_factor.hpp"
#include "vec3.hpp"

namespace nanobragg {

#if defined(_OPENMP) && !defined(__CUDACC__)
#define NANOBRAGG_SIMD _Pragma("omp simd")
#else
#define NANOBRAGG_SIMD
#endif

/// Orientations handled per batch of the fast path (fixed so GPU threads need no dynamic memory).
constexpr int kOrientationBatch = 16;

/// What one pixel's computation carries in and out besides its value.
struct PixelState {
  bool first_evaluation;  // in: this pixel starts the render (stale-phi quirk uses cells_first)
  bool interpolate;       // in/out: tricubic interpolation still on; the C switches it off for
                          // the rest of the render at the first out-of-range evaluation (Q8)
  bool switched_off;      // out: this pixel switched interpolation off
  double omega_sum;       // out: sum of the solid angles used, for the console summary
};

template <typename Real>
NANOBRAGG_HD inline Vec3<Real> load_vec(const Real* p) {
  return {p[0], p[1], p[2]};
}

/// Position of a sub-pixel centre in the lab frame (m), flat or curved detector.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Vec3<Real> subpixel_position(const SimParams<Real>& p, int fpixel, int spixel, int subF,
                                                 int subS, Real Odet) {
  const Real Fdet = p.subpixel_size * Real(fpixel * p.oversample + subF) + p.subpixel_size / Real(2);
  const Real Sdet = p.subpixel_size * Real(spixel * p.oversample + subS) + p.subpixel_size / Real(2);
  Vec3<Real> pos = {Fdet * p.fdet.x + Sdet * p.sdet.x + Odet * p.odet.x + p.pix0.x,
                    Fdet * p.fdet.y + Sdet * p.sdet.y + Odet * p.odet.y + p.pix0.y,
                    Fdet * p.fdet.z + Sdet * p.sdet.z + Odet * p.odet.z + p.pix0.z};
  if (p.curved_detector) {
    // Same as nanoBragg.c: the lab y and z of the flat position are taken as arc lengths.
    const Vec3<Real> v = {p.distance * p.beam.x, p.distance * p.beam.y, p.distance * p.beam.z};
    const Vec3<Real> w = rotate_axis(v, p.sdet, pos.y / p.distance);
    pos = rotate_axis(w, p.fdet, pos.z / p.distance);
  }
  return pos;
}

/// Solid angle of the pixel seen from the sample (sr); full pixel area, as the C.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real pixel_solid_angle(const SimParams<Real>& p, Real airpath) {
  if (p.point_pixel) return Real(1) / airpath / airpath;
  return p.pixel_size * p.pixel_size / airpath / airpath * p.close_distance / airpath;
}

/// Fraction of photons along direction d absorbed by sensor layer k.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real capture_fraction(const SimParams<Real>& p, const Vec3<Real>& d, int k) {
  const Real parallax = dot(d, p.odet);
  return exp(Real(-k) * p.thickstep * p.mu / parallax) - exp(Real(-(k + 1)) * p.thickstep * p.mu / parallax);
}

/// The intensity terms of every orientation for one scattering vector q, exactly as the C
/// computes them (libm sin, tricubic interpolation with its global switch-off), added to I.
template <typename Real>
NANOBRAGG_HD inline void accumulate_exact(const SimParams<Real>& p, const Real* cells, int n_orient,
                                          const Vec3<Real>& q, PixelState& st, Real capture, Real polar,
                                          Real omega, Real& I) {
  for (int o = 0; o < n_orient; ++o) {
    const Real* c = cells + o;
    const int n = n_orient;
    const Real h = c[0] * q.x + c[n] * q.y + c[2 * n] * q.z;
    const Real k = c[3 * n] * q.x + c[4 * n] * q.y + c[5 * n] * q.z;
    const Real l = c[6 * n] * q.x + c[7 * n] * q.y + c[8 * n] * q.z;
    const int h0 = int(ceil(h - Real(0.5)));
    const int k0 = int(ceil(k - Real(0.5)));
    const int l0 = int(ceil(l - Real(0.5)));
    const Real F_latt = lattice_factor(p.lattice, h, k, l, h0, k0, l0);
    if (F_latt == Real(0) && p.water_size == Real(0)) continue;

    if (st.interpolate && interpolation_out_of_range(p.F, h, k, l)) {
      st.interpolate = false;
      st.switched_off = true;
    }
    const Real F_cell = st.interpolate ? interpolate_F(p.F, h, k, l) : nearest_F(p.F, h0, k0, l0);
    I += F_cell * F_cell * F_latt * F_latt;
    if (p.oversample_thick) I *= capture;
    if (p.oversample_polar) I *= polar;
    if (p.oversample_omega) I *= omega;
  }
}

/// Nearest-neighbour F without branches (so a loop over orientations vectorizes, with a gather):
/// out-of-table indices read entry 0, which always exists, and are then replaced by default_F.
template <typename Real>
NANOBRAGG_HD inline Real nearest_F_branchless(const FTable<Real>& t, int h0, int k0, int l0) {
  const int in = int(t.hkls != 0) & int(h0 <= t.h_max) & int(h0 >= t.h_min) & int(k0 <= t.k_max) &
                 int(k0 >= t.k_min) & int(l0 <= t.l_max) & int(l0 >= t.l_min);
  const int idx = in * (((h0 - t.h_min) * (t.k_range + 1) + (k0 - t.k_min)) * (t.l_range + 1) + (l0 - t.l_min));
  const Real v = t.values[idx];
  return in ? v : t.default_F;
}

/// The fast path of accumulate_exact() for nearest-neighbour structure factors: orientations are
/// processed in batches whose terms are computed independently (a SIMD loop on the CPU), then
/// added to I in the C's order so the oversample_* multiplications keep their meaning.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void accumulate_fast(const SimParams<Real>& p, const Real* cells, int n_orient,
                                         const Vec3<Real>& q, Real capture, Real polar, Real omega, Real& I) {
  const int n = n_orient;
  const bool any_post = p.oversample_thick || p.oversample_polar || p.oversample_omega;
  for (int o0 = 0; o0 < n; o0 += kOrientationBatch) {
    const int m = (n - o0 < kOrientationBatch) ? n - o0 : kOrientationBatch;
    Real term[kOrientationBatch];
    const Real* c = cells + o0;
    const bool square = p.lattice.shape == CrystalShape::Square;
    const Real no_water = p.water_size == Real(0) ? Real(1) : Real(0);
    if (square) {
      // Loop invariants in locals, so the SIMD loop body has no loads through p.
      const Real na = p.lattice.Na > Real(1) ? p.lattice.Na : Real(1);
      const Real nb = p.lattice.Nb > Real(1) ? p.lattice.Nb : Real(1);
      const Real nc = p.lattice.Nc > Real(1) ? p.lattice.Nc : Real(1);
      const FTable<Real> F = p.F;
      NANOBRAGG_SIMD
      for (int j = 0; j < m; ++j) {
        const Real h = c[j] * q.x + c[n + j] * q.y + c[2 * n + j] * q.z;
        const Real k = c[3 * n + j] * q.x + c[4 * n + j] * q.y + c[5 * n + j] * q.z;
        const Real l = c[6 * n + j] * q.x + c[7 * n + j] * q.y + c[8 * n + j] * q.z;
        const Real hr = round_half_down(h), kr = round_half_down(k), lr = round_half_down(l);
        const Real F_latt = sincg_offset(h - hr, na) * sincg_offset(k - kr, nb) * sincg_offset(l - lr, nc);
        const int h0 = int(hr), k0 = int(kr), l0 = int(lr);
        const Real F_cell = nearest_F_branchless(F, h0, k0, l0);
        // A zero lattice factor skips the term (and the oversample_* products) unless water is on.
        const Real t = F_cell * F_cell * F_latt * F_latt;
        term[j] = ((F_latt == Real(0)) & (no_water != Real(0))) ? Real(-1) : t;
      }
    } else {
      for (int j = 0; j < m; ++j) {
        const Real h = c[j] * q.x + c[n + j] * q.y + c[2 * n + j] * q.z;
        const Real k = c[3 * n + j] * q.x + c[4 * n + j] * q.y + c[5 * n + j] * q.z;
        const Real l = c[6 * n + j] * q.x + c[7 * n + j] * q.y + c[8 * n + j] * q.z;
        const int h0 = int(round_half_down(h)), k0 = int(round_half_down(k)), l0 = int(round_half_down(l));
        const Real F_latt = lattice_factor(p.lattice, h, k, l, h0, k0, l0);
        const Real F_cell = nearest_F_branchless(p.F, h0, k0, l0);
        const Real t = F_cell * F_cell * F_latt * F_latt;
        term[j] = (F_latt == Real(0) && no_water != Real(0)) ? Real(-1) : t;
      }
    }
    if (!any_post) {
      for (int j = 0; j < m; ++j)
        if (!(term[j] < Real(0))) I += term[j];
    } else {
      for (int j = 0; j < m; ++j) {
        if (term[j] < Real(0)) continue;  // NaN terms are added, as in the C
        I += term[j];
        if (p.oversample_thick) I *= capture;
        if (p.oversample_polar) I *= polar;
        if (p.oversample_omega) I *= omega;
      }
    }
  }
}

/// Photons in pixel (fpixel, spixel) before float storage; the caller skips ROI and mask.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real pixel_intensity(const SimParams<Real>& p, int fpixel, int spixel, PixelState& st) {
  Real I = p.I_bg;
  Real polar = p.nopolar ? Real(1) : Real(0);
  Real omega = Real(0);
  Real capture = Real(0);
  Vec3<Real> polar_axis = p.polar_axis;
  const int n_orient = p.phisteps * p.domains;
  const Real* cells = st.first_evaluation ? p.cells_first : p.cells;

  for (int thick_tic = 0; thick_tic < p.thicksteps; ++thick_tic) {
    const Real Odet = Real(thick_tic) * p.thickstep;
    capture = (p.thick == Real(0)) ? Real(1) : Real(0);
    for (int subS = 0; subS < p.oversample; ++subS) {
      for (int subF = 0; subF < p.oversample; ++subF) {
        Vec3<Real> d = subpixel_position(p, fpixel, spixel, subF, subS, Odet);
        const Real airpath = unitize(d);
        if (omega == Real(0) || p.oversample_omega) omega = pixel_solid_angle(p, airpath);
        st.omega_sum += double(omega);
        if (capture == Real(0) || p.oversample_thick) capture = capture_fraction(p, d, thick_tic);

        for (int src = 0; src < p.n_sources; ++src) {
          Vec3<Real> incident = {-p.source_dir[3 * src], -p.source_dir[3 * src + 1], -p.source_dir[3 * src + 2]};
          const Real lambda = p.source_lambda[src];
          const Vec3<Real> q = {(d.x - incident.x) / lambda, (d.y - incident.y) / lambda,
                                (d.z - incident.z) / lambda};
          const Real stol = Real(0.5) * magnitude(q);
          if (p.dmin > Real(0) && stol > Real(0) && p.dmin > Real(0.5) / stol) continue;
          if (polar == Real(0) || p.oversample_polar) {
            polar = polarization_factor(p.kahn, incident, d, polar_axis);
          }
          if (p.exact_math || st.interpolate) {
            accumulate_exact(p, cells, n_orient, q, st, capture, polar, omega, I);
          } else {
            accumulate_fast(p, cells, n_orient, q, capture, polar, omega, I);
          }
          // Every later evaluation of this render sees the stale phi orientation.
          cells = p.cells;
        }
      }
    }
  }
  Real value = p.r_e_sqr * p.fluence * I / p.steps;
  if (!p.oversample_thick) value *= capture;
  if (!p.oversample_polar) value *= polar;
  if (!p.oversample_omega) value *= omega;
  st.first_evaluation = false;
  return value;
}

}  // namespace nanobragg
