/// pixel_intensity(): the whole per-pixel computation of nanoBragg.c (L2568-L3049), shared by the
/// CPU and CUDA backends. Loop order and arithmetic follow the C so float64 results match it.
#pragma once
#include <cmath>
#include <cstdint>
#include "hd.hpp"
#include "lattice.hpp"
#include "params.hpp"
#include "polarization.hpp"
#include "structure_factor.hpp"
#include "vec3.hpp"

namespace nanobragg {

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
NANOBRAGG_HD inline Vec3<Real> subpixel_position(const SimParams<Real>& p, int fpixel, int spixel, int subF,
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
NANOBRAGG_HD inline Real pixel_solid_angle(const SimParams<Real>& p, Real airpath) {
  if (p.point_pixel) return Real(1) / airpath / airpath;
  return p.pixel_size * p.pixel_size / airpath / airpath * p.close_distance / airpath;
}

/// Fraction of photons along direction d absorbed by sensor layer k.
template <typename Real>
NANOBRAGG_HD inline Real capture_fraction(const SimParams<Real>& p, const Vec3<Real>& d, int k) {
  const Real parallax = dot(d, p.odet);
  return exp(Real(-k) * p.thickstep * p.mu / parallax) - exp(Real(-(k + 1)) * p.thickstep * p.mu / parallax);
}

/// Photons in pixel (fpixel, spixel) before float storage; the caller skips ROI and mask.
template <typename Real>
NANOBRAGG_HD inline Real pixel_intensity(const SimParams<Real>& p, int fpixel, int spixel, PixelState& st) {
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
          for (int o = 0; o < n_orient; ++o) {
            const Real* c = cells + 9 * o;
            const Real h = c[0] * q.x + c[1] * q.y + c[2] * q.z;
            const Real k = c[3] * q.x + c[4] * q.y + c[5] * q.z;
            const Real l = c[6] * q.x + c[7] * q.y + c[8] * q.z;
            const int h0 = int(ceil(h - Real(0.5)));
            const int k0 = int(ceil(k - Real(0.5)));
            const int l0 = int(ceil(l - Real(0.5)));
            const Real F_latt = lattice_factor(p.lattice, h, k, l, h0, k0, l0);
            if (F_latt == Real(0) && p.water_size == Real(0)) continue;

            Real F_cell = p.F.default_F;
            if (st.interpolate && interpolation_out_of_range(p.F, h, k, l)) {
              st.interpolate = false;
              st.switched_off = true;
            }
            if (st.interpolate) {
              F_cell = interpolate_F(p.F, h, k, l);
            } else {
              F_cell = nearest_F(p.F, h0, k0, l0);
            }
            I += F_cell * F_cell * F_latt * F_latt;
            if (p.oversample_thick) I *= capture;
            if (p.oversample_polar) I *= polar;
            if (p.oversample_omega) I *= omega;
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
