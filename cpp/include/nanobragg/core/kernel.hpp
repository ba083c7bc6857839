/// pixel_block() / pixel_intensity(): the whole per-pixel computation of nanoBragg.c (L2568-L3049),
/// shared by the CPU (SIMD lanes of W pixels) and CUDA (W = 1) backends. Each lane follows the C's
/// loop and accumulation order; exact_math also follows its libm calls, bit for bit.
#pragma once
#include <cmath>
#include <cstdint>
#include "hd.hpp"
#include "lattice.hpp"
#include "fastmath.hpp"
#include "params.hpp"
#include "polarization.hpp"
#include "structure_factor.hpp"
#include "vec3.hpp"

namespace nanobragg {


template <typename Real>
NANOBRAGG_HD inline Vec3<Real> load_vec(const Real* p) {
  return {p[0], p[1], p[2]};
}

/// Position of a sub-pixel centre on the flat detector plane in the lab frame (m).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Vec3<Real> flat_subpixel_position(const SimParams<Real>& p, int fpixel, int spixel,
                                                                     int subF, int subS, Real Odet) {
  const Real Fdet = p.subpixel_size * Real(fpixel * p.oversample + subF) + p.subpixel_size / Real(2);
  const Real Sdet = p.subpixel_size * Real(spixel * p.oversample + subS) + p.subpixel_size / Real(2);
  return {Fdet * p.fdet.x + Sdet * p.sdet.x + Odet * p.odet.x + p.pix0.x,
          Fdet * p.fdet.y + Sdet * p.sdet.y + Odet * p.odet.y + p.pix0.y,
          Fdet * p.fdet.z + Sdet * p.sdet.z + Odet * p.odet.z + p.pix0.z};
}

/// Position of a sub-pixel centre in the lab frame (m), flat or curved detector.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Vec3<Real> subpixel_position(const SimParams<Real>& p, int fpixel, int spixel, int subF,
                                                 int subS, Real Odet) {
  Vec3<Real> pos = flat_subpixel_position(p, fpixel, spixel, subF, subS, Odet);
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
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real pixel_area_solid_angle(const SimParams<Real>& p, Real airpath) {
  return p.pixel_size * p.pixel_size / airpath / airpath * p.close_distance / airpath;
}

/// The solid-angle factor of -point_pixel: 1/airpath^2.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real point_solid_angle(Real airpath) {
  return Real(1) / airpath / airpath;
}

/// The solid angle the C uses for the pixel (-point_pixel or full pixel area).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real pixel_solid_angle(const SimParams<Real>& p, Real airpath) {
  return p.point_pixel ? point_solid_angle(airpath) : pixel_area_solid_angle(p, airpath);
}

/// Fraction of photons along direction d absorbed by sensor layer k.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real capture_fraction(const SimParams<Real>& p, const Vec3<Real>& d, int k) {
  const Real parallax = dot(d, p.odet);
  return exp(Real(-k) * p.thickstep * p.mu / parallax) - exp(Real(-(k + 1)) * p.thickstep * p.mu / parallax);
}

/// Nearest-neighbour F without branches (so a loop over pixels vectorizes, with a gather):
/// out-of-table indices read entry 0, which always exists, and are then replaced by default_F.
template <typename Real>
NANOBRAGG_HD inline Real nearest_F_branchless(const FTable<Real>& t, int h0, int k0, int l0) {
  const int in = int(t.hkls != 0) & int(h0 <= t.h_max) & int(h0 >= t.h_min) & int(k0 <= t.k_max) &
                 int(k0 >= t.k_min) & int(l0 <= t.l_max) & int(l0 >= t.l_min);
  const int idx = in * (((h0 - t.h_min) * (t.k_range + 1) + (k0 - t.k_min)) * (t.l_range + 1) + (l0 - t.l_min));
  const Real v = t.values[idx];
  return in ? v : t.default_F;
}

/// 1 when an evaluation adds to the pixel, else 0: not skipped by -dmin, and a zero lattice factor
/// only counts with water on (the C's `continue`). Real, not bool, so lane loops vectorize.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real kept(Real skip, Real F_latt, Real no_water) {
  return ((skip == Real(0)) & !((F_latt == Real(0)) & (no_water != Real(0)))) ? Real(1) : Real(0);
}

/// Whether some lane holds exactly 0 (a solid angle or polarization factor not computed yet).
template <typename Real, int W>
NANOBRAGG_HD inline bool any_zero(const Real (&x)[W]) {
  bool zero = false;
  for (int w = 0; w < W; ++w) zero |= x[w] == Real(0);
  return zero;
}

/// Whether any lane still needs its polarization factor (first surviving source, or always with
/// -oversample_polar); checked once so the per-lane evaluation is skipped when none does.
template <typename Real, int W>
NANOBRAGG_HD inline bool need_polar(const Real (&polar)[W], const Real (&skip)[W], int every_time) {
  bool need = false;
  for (int w = 0; w < W; ++w) need |= (skip[w] == Real(0)) & ((polar[w] == Real(0)) | (every_time != 0));
  return need;
}

/// The last evaluation of a pixel, as nanoBragg's -printout reports it (L3057-L3077).
struct PixelTrace {
  double pos[3];       // last sub-pixel position (m)
  double stol;         // |q|/2 of the last source (1/m)
  double hkl[3];       // fractional indices of the last evaluation
  int hkl0[3];         // nearest integers
  double F_cell, F_latt, I;  // last structure factor and lattice factor; the raw sum
  double polar, omega, capture;
  double cell[9];      // a, b, c of the last orientation (m)
};

/// What a block of W adjacent pixels of one row carries in and out besides its values.
template <int W>
struct BlockState {
  PixelTrace* trace;       // in: record the last evaluation here (W == 1 only); null normally
  bool first_evaluation;   // in: the block (W == 1) holds the render's first pixel (stale phi, Q1)
  bool interpolate[W];     // in/out: tricubic interpolation still on for this pixel; the C switches
                           // it off for the rest of the render at the first out-of-range evaluation (Q8)
  bool switched_off[W];    // out: this pixel switched interpolation off
  double switch_hkl[W][3]; // out: h, k, l of that evaluation (the C's warning prints them)
  double omega_sum[W];     // out: sum of the solid angles used, for the console summary
};

/// The C's per-pixel computation (nanoBragg.c L2568-L3049) for W adjacent pixels of row spixel
/// starting at fpixel0, in lockstep: every loop over pixels ("lanes") is independent, so the
/// CPU runs it in SIMD registers, while each lane follows the C's loop and accumulation order
/// exactly. W == 1 is the plain per-pixel kernel (GPU threads, row tails, the first pixel).
/// The caller skips ROI and mask; exact_math selects libm sin/ceil (bit-identical to the C) over
/// the fast lattice path.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void pixel_block(const SimParams<Real>& p, int fpixel0, int spixel,
                                                    BlockState<W>& st, Real* value) {
  Real I[W], polar[W], omega[W], capture[W];
  for (int w = 0; w < W; ++w) {
    I[w] = p.I_bg;
    polar[w] = p.nopolar ? Real(1) : Real(0);
    omega[w] = Real(0);
    capture[w] = Real(0);
    st.switched_off[w] = false;
    st.omega_sum[w] = 0.0;
  }
  const int n_orient = p.phisteps * p.domains;
  const Real* cells = st.first_evaluation ? p.cells_first : p.cells;
  const bool any_post = p.oversample_thick || p.oversample_polar || p.oversample_omega;
  const Real no_water = p.water_size == Real(0) ? Real(1) : Real(0);
  const bool square = p.lattice.shape == CrystalShape::Square;
  // Same as nanoBragg.c's sincg(): axes with N <= 1 contribute a factor of exactly 1.
  const Real na = p.lattice.Na > Real(1) ? p.lattice.Na : Real(1);
  const Real nb = p.lattice.Nb > Real(1) ? p.lattice.Nb : Real(1);
  const Real nc = p.lattice.Nc > Real(1) ? p.lattice.Nc : Real(1);
  const FTable<Real> F = p.F;
  const bool single_cell = na == Real(1) && nb == Real(1) && nc == Real(1);
  // Some lane's solid angle / polarization may still be 0: only then are the lanes checked (the
  // C computes both at a pixel's first evaluation, and again wherever they are exactly 0).
  bool omega_pending = true, polar_pending = true;

  for (int thick_tic = 0; thick_tic < p.thicksteps; ++thick_tic) {
    const Real Odet = Real(thick_tic) * p.thickstep;
    for (int w = 0; w < W; ++w) capture[w] = (p.thick == Real(0)) ? Real(1) : Real(0);
    for (int subS = 0; subS < p.oversample; ++subS) {
      for (int subF = 0; subF < p.oversample; ++subF) {
        Real dx[W], dy[W], dz[W], air[W];
        if (p.curved_detector) {
          for (int w = 0; w < W; ++w) {
            Vec3<Real> d = subpixel_position(p, fpixel0 + w, spixel, subF, subS, Odet);
            const Real airpath = unitize(d);
            if (omega[w] == Real(0) || p.oversample_omega) omega[w] = pixel_solid_angle(p, airpath);
            dx[w] = d.x, dy[w] = d.y, dz[w] = d.z;
          }
        } else {
          // The solid angle is evaluated where the C does (first sub-pixel, or every one with
          // -oversample_omega); the test is per lane but in practice uniform, so check once.
          const bool need_omega = p.oversample_omega != 0 || (omega_pending && any_zero(omega));
          if (p.exact_math) {
            for (int w = 0; w < W; ++w) {
              Vec3<Real> d = flat_subpixel_position(p, fpixel0 + w, spixel, subF, subS, Odet);
              air[w] = unitize(d);
              dx[w] = d.x, dy[w] = d.y, dz[w] = d.z;
            }
          } else {
            // One division per lane instead of three (within an ulp of the C's unitize()).
            NANOBRAGG_SIMD
            for (int w = 0; w < W; ++w) {
              const Vec3<Real> d = flat_subpixel_position(p, fpixel0 + w, spixel, subF, subS, Odet);
              const Real mag = sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
              const Real inv = Real(1) / mag;
              dx[w] = d.x * inv, dy[w] = d.y * inv, dz[w] = d.z * inv;
              air[w] = mag;
            }
          }
          if (need_omega && p.point_pixel) {
            NANOBRAGG_SIMD
            for (int w = 0; w < W; ++w) {
              const Real om = point_solid_angle(air[w]);
              omega[w] = (omega[w] == Real(0) || p.oversample_omega) ? om : omega[w];
            }
          } else if (need_omega) {
            NANOBRAGG_SIMD
            for (int w = 0; w < W; ++w) {
              const Real om = pixel_area_solid_angle(p, air[w]);
              omega[w] = (omega[w] == Real(0) || p.oversample_omega) ? om : omega[w];
            }
          }
          if (need_omega) omega_pending = any_zero(omega);
        }
        NANOBRAGG_SIMD
        for (int w = 0; w < W; ++w) st.omega_sum[w] += double(omega[w]);
        if (st.trace) {
          const Vec3<Real> pos = subpixel_position(p, fpixel0, spixel, subF, subS, Odet);
          st.trace->pos[0] = double(pos.x), st.trace->pos[1] = double(pos.y), st.trace->pos[2] = double(pos.z);
        }
        if (p.thick != Real(0)) {
          for (int w = 0; w < W; ++w) {
            if (capture[w] == Real(0) || p.oversample_thick) capture[w] = capture_fraction(p, {dx[w], dy[w], dz[w]}, thick_tic);
          }
        }
        for (int src = 0; src < p.n_sources; ++src) {
          const Real ix = -p.source_dir[3 * src], iy = -p.source_dir[3 * src + 1], iz = -p.source_dir[3 * src + 2];
          const Real lambda = p.source_lambda[src];
          // Masks are Real 0/1 (not bool) so the lane loops vectorize.
          Real qx[W], qy[W], qz[W], skip[W];
          if (p.exact_math) {
            for (int w = 0; w < W; ++w) {
              qx[w] = (dx[w] - ix) / lambda, qy[w] = (dy[w] - iy) / lambda, qz[w] = (dz[w] - iz) / lambda;
              skip[w] = Real(0);
            }
          } else {
            const Real inv_lambda = Real(1) / lambda;  // within an ulp of dividing each component
            NANOBRAGG_SIMD
            for (int w = 0; w < W; ++w) {
              qx[w] = (dx[w] - ix) * inv_lambda, qy[w] = (dy[w] - iy) * inv_lambda, qz[w] = (dz[w] - iz) * inv_lambda;
              skip[w] = Real(0);
            }
          }
          if (st.trace) st.trace->stol = double(Real(0.5) * sqrt(qx[0] * qx[0] + qy[0] * qy[0] + qz[0] * qz[0]));
          if (p.dmin > Real(0)) {
            NANOBRAGG_SIMD
            for (int w = 0; w < W; ++w) {
              const Real stol = Real(0.5) * sqrt(qx[w] * qx[w] + qy[w] * qy[w] + qz[w] * qz[w]);
              skip[w] = ((stol > Real(0)) & (p.dmin > Real(0.5) / stol)) ? Real(1) : Real(0);
            }
            Real skipped = Real(1);
            for (int w = 0; w < W; ++w) skipped *= skip[w];
            if (skipped != Real(0)) continue;
          }
          // Polarization for the first surviving source, again whenever it is exactly 0 (Q27).
          // Like the C, computing it re-normalizes the diffracted vector used by later sources.
          if (p.kahn != Real(0)) {
            for (int w = 0; w < W; ++w) {
              if (skip[w] == Real(0) && (polar[w] == Real(0) || p.oversample_polar)) {
                Vec3<Real> inc = {ix, iy, iz}, d = {dx[w], dy[w], dz[w]}, axis = p.polar_axis;
                polar[w] = polarization_factor(p.kahn, inc, d, axis);
                dx[w] = d.x, dy[w] = d.y, dz[w] = d.z;
              }
            }
          } else if ((polar_pending || p.oversample_polar) && need_polar(polar, skip, p.oversample_polar)) {
            Vec3<Real> inc = {ix, iy, iz};
            unitize(inc);
            const bool every_time = p.oversample_polar != 0;
            NANOBRAGG_SIMD
            for (int w = 0; w < W; ++w) {
              Vec3<Real> d = {dx[w], dy[w], dz[w]};
              const Real pf = unpolarized_factor(inc, d);
              const bool now = (skip[w] == Real(0)) & ((polar[w] == Real(0)) | every_time);
              polar[w] = now ? pf : polar[w];
              dx[w] = now ? d.x : dx[w], dy[w] = now ? d.y : dy[w], dz[w] = now ? d.z : dz[w];
            }
            polar_pending = any_zero(polar);
          }
          for (int o = 0; o < n_orient; ++o) {
            const Real* c = cells + o;
            const int n = n_orient;
            const Real ax = c[0], ay = c[n], az = c[2 * n], bx = c[3 * n], by = c[4 * n], bz = c[5 * n];
            const Real cx = c[6 * n], cy = c[7 * n], cz = c[8 * n];
            Real term[W], keep[W];
            bool any_interp = false, all_interp = true;
            for (int w = 0; w < W; ++w) any_interp |= st.interpolate[w], all_interp &= st.interpolate[w];
            const bool fast = square && !p.exact_math && !st.trace;
            bool done = false;
            if (fast && all_interp) {
              // Tricubic F in SIMD lanes; it declines (and the per-lane path below runs) when some
              // lane would switch interpolation off.
              Real h[W], k[W], l[W], F_latt[W], F_cell[W];
              NANOBRAGG_SIMD
              for (int w = 0; w < W; ++w) {
                h[w] = ax * qx[w] + ay * qy[w] + az * qz[w];
                k[w] = bx * qx[w] + by * qy[w] + bz * qz[w];
                l[w] = cx * qx[w] + cy * qy[w] + cz * qz[w];
                F_latt[w] = Real(1);
              }
              if (!single_cell) {
                NANOBRAGG_SIMD
                for (int w = 0; w < W; ++w) {
                  const Real hr = round_half_down(h[w]), kr = round_half_down(k[w]), lr = round_half_down(l[w]);
                  F_latt[w] = square_lattice_factor(h[w], k[w], l[w], hr, kr, lr, na, nb, nc);
                }
              }
              if (interpolate_F_lanes(F, h, k, l, F_cell)) {
                NANOBRAGG_SIMD
                for (int w = 0; w < W; ++w) {
                  term[w] = F_cell[w] * F_cell[w] * F_latt[w] * F_latt[w];
                  keep[w] = kept(skip[w], F_latt[w], no_water);
                }
                done = true;
              }
            }
            if (!done && fast && !any_interp) {
              NANOBRAGG_SIMD
              for (int w = 0; w < W; ++w) {
                const Real h = ax * qx[w] + ay * qy[w] + az * qz[w];
                const Real k = bx * qx[w] + by * qy[w] + bz * qz[w];
                const Real l = cx * qx[w] + cy * qy[w] + cz * qz[w];
                const Real hr = round_half_down(h), kr = round_half_down(k), lr = round_half_down(l);
                const Real F_latt = square_lattice_factor(h, k, l, hr, kr, lr, na, nb, nc);
                const Real F_cell = nearest_F_branchless(F, int(hr), int(kr), int(lr));
                term[w] = F_cell * F_cell * F_latt * F_latt;
                // A zero lattice factor skips the term (and the oversample_* products) unless water is on.
                keep[w] = kept(skip[w], F_latt, no_water);
              }
            } else if (!done) {
              for (int w = 0; w < W; ++w) {
                const Real h = ax * qx[w] + ay * qy[w] + az * qz[w];
                const Real k = bx * qx[w] + by * qy[w] + bz * qz[w];
                const Real l = cx * qx[w] + cy * qy[w] + cz * qz[w];
                int h0, k0, l0;
                if (p.exact_math) {
                  h0 = int(ceil(h - Real(0.5))), k0 = int(ceil(k - Real(0.5))), l0 = int(ceil(l - Real(0.5)));
                } else {
                  h0 = int(round_half_down(h)), k0 = int(round_half_down(k)), l0 = int(round_half_down(l));
                }
                Real F_latt = Real(1);  // a single unit cell: sincg is not evaluated at all
                if (square && !p.exact_math && !st.trace) {  // a trace prints the C's signed F_latt
                  if (!single_cell) {
                    F_latt = square_lattice_factor(h, k, l, Real(h0), Real(k0), Real(l0), na, nb, nc);
                  }
                } else {
                  F_latt = lattice_factor(p.lattice, h, k, l, h0, k0, l0);
                }
                keep[w] = kept(skip[w], F_latt, no_water);
                Real F_cell = F.default_F;
                if (keep[w] != Real(0)) {
                  if (st.interpolate[w] && interpolation_out_of_range(F, h, k, l)) {
                    st.interpolate[w] = false;
                    st.switched_off[w] = true;
                    st.switch_hkl[w][0] = double(h), st.switch_hkl[w][1] = double(k), st.switch_hkl[w][2] = double(l);
                  }
                  if (!st.interpolate[w]) {
                    F_cell = nearest_F(F, h0, k0, l0);
                  } else {
                    F_cell = p.exact_math ? interpolate_F(F, h, k, l) : interpolate_F_weighted(F, h, k, l);
                  }
                }
                term[w] = F_cell * F_cell * F_latt * F_latt;
                if (st.trace && skip[w] == Real(0)) {
                  PixelTrace& t = *st.trace;
                  t.hkl[0] = double(h), t.hkl[1] = double(k), t.hkl[2] = double(l);
                  t.hkl0[0] = h0, t.hkl0[1] = k0, t.hkl0[2] = l0;
                  t.F_latt = double(F_latt);
                  if (keep[w] != Real(0)) t.F_cell = double(F_cell);  // else the C keeps the previous one
                  const Real abc[9] = {ax, ay, az, bx, by, bz, cx, cy, cz};
                  for (int i = 0; i < 9; ++i) t.cell[i] = double(abc[i]);
                }
              }
            }
            if (!any_post) {
              NANOBRAGG_SIMD
              for (int w = 0; w < W; ++w) I[w] += keep[w] != Real(0) ? term[w] : Real(0);
            } else {
              for (int w = 0; w < W; ++w) {
                if (keep[w] == Real(0)) continue;
                I[w] += term[w];
                if (p.oversample_thick) I[w] *= capture[w];
                if (p.oversample_polar) I[w] *= polar[w];
                if (p.oversample_omega) I[w] *= omega[w];
              }
            }
          }
          // Every later evaluation of this render sees the stale phi orientation (W == 1 here).
          if (skip[0] == Real(0)) cells = p.cells;
        }
      }
    }
  }
  if (st.trace) {  // W == 1
    st.trace->I = double(I[0]), st.trace->polar = double(polar[0]);
    st.trace->omega = double(omega[0]), st.trace->capture = double(capture[0]);
  }
  const Real photons = p.r_e_sqr * p.fluence;
  const bool by_capture = !p.oversample_thick, by_polar = !p.oversample_polar, by_omega = !p.oversample_omega;
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) {
    Real v = photons * I[w] / p.steps;
    v = by_capture ? v * capture[w] : v;
    v = by_polar ? v * polar[w] : v;
    v = by_omega ? v * omega[w] : v;
    value[w] = v;
  }
}

/// What one pixel's computation carries in and out besides its value.
struct PixelState {
  PixelTrace* trace;      // in: record the last evaluation here, or null
  bool first_evaluation;  // in: this pixel starts the render (stale-phi quirk uses cells_first)
  bool interpolate;       // in/out: tricubic interpolation still on (Q8)
  bool switched_off;      // out: this pixel switched interpolation off
  double switch_hkl[3];   // out: h, k, l of the evaluation that switched it off
  double omega_sum;       // out: sum of the solid angles used, for the console summary
};

/// Photons in pixel (fpixel, spixel) before float storage; the caller skips ROI and mask.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real pixel_intensity(const SimParams<Real>& p, int fpixel, int spixel,
                                                        PixelState& st) {
  BlockState<1> b;
  b.trace = st.trace;
  b.first_evaluation = st.first_evaluation;
  b.interpolate[0] = st.interpolate;
  Real value;
  pixel_block<Real, 1>(p, fpixel, spixel, b, &value);
  st.interpolate = b.interpolate[0];
  st.switched_off = b.switched_off[0];
  for (int i = 0; i < 3; ++i) st.switch_hkl[i] = b.switch_hkl[0][i];
  st.omega_sum = b.omega_sum[0];
  st.first_evaluation = false;
  return value;
}

}  // namespace nanobragg
