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
  if (p.curved_detector) pos = curved_detector_position(pos, p.distance, p.beam, p.sdet, p.fdet);
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

// ---------------------------------------------------------------------------------------------
// pixel_block() in stages. Each stage is a loop over the W lanes of a block (or a per-lane loop
// where lanes branch differently); all are force-inlined, so the block compiles as one function.

/// What the lanes of a block accumulate: the raw sum and the factors the C multiplies in last.
template <typename Real, int W>
struct PixelLanes {
  Real I[W], polar[W], omega[W], capture[W];
};

/// One 3-vector per lane, by component (so component loops vectorize).
template <typename Real, int W>
struct LaneVec3 {
  Real x[W], y[W], z[W];
};

/// The per-render constants the lattice stages read.
template <typename Real>
struct LatticeSetup {
  int n_orient;     // phi steps x mosaic domains
  Real na, nb, nc;  // cells per axis, at least 1 (axes with N <= 1 contribute exactly 1, as sincg())
  bool single_cell; // na = nb = nc = 1: F_latt is 1 and sincg is never evaluated
  bool square;      // square crystal shape
  bool fast;        // the fast lattice path (square, not exact_math, no trace)
  Real no_water;    // 1 without water background: a zero F_latt then skips the term
};

template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE LatticeSetup<Real> lattice_setup(const SimParams<Real>& p, bool tracing) {
  LatticeSetup<Real> s;
  s.n_orient = p.phisteps * p.domains;
  s.na = p.lattice.Na > Real(1) ? p.lattice.Na : Real(1);
  s.nb = p.lattice.Nb > Real(1) ? p.lattice.Nb : Real(1);
  s.nc = p.lattice.Nc > Real(1) ? p.lattice.Nc : Real(1);
  s.single_cell = s.na == Real(1) && s.nb == Real(1) && s.nc == Real(1);
  s.square = p.lattice.shape == CrystalShape::Square;
  s.fast = s.square && !p.exact_math && !tracing;
  s.no_water = p.water_size == Real(0) ? Real(1) : Real(0);
  return s;
}

/// Stage 0: the sums start at the background, the factors at "not computed yet" (0).
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void start_lanes(const SimParams<Real>& p, BlockState<W>& st, PixelLanes<Real, W>& px) {
  for (int w = 0; w < W; ++w) {
    px.I[w] = p.I_bg;
    px.polar[w] = p.nopolar ? Real(1) : Real(0);
    px.omega[w] = Real(0);
    px.capture[w] = Real(0);
    st.switched_off[w] = false;
    st.omega_sum[w] = 0.0;
  }
}

/// Stage 1 (curved detector): unit diffracted directions of one sub-pixel, and the solid angle
/// where the C evaluates it (first sub-pixel, or every one with -oversample_omega).
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void curved_directions(const SimParams<Real>& p, int fpixel0, int spixel, int subF,
                                                          int subS, Real Odet, LaneVec3<Real, W>& d, Real (&omega)[W]) {
  for (int w = 0; w < W; ++w) {
    Vec3<Real> v = subpixel_position(p, fpixel0 + w, spixel, subF, subS, Odet);
    const Real airpath = unitize(v);
    if (omega[w] == Real(0) || p.oversample_omega) omega[w] = pixel_solid_angle(p, airpath);
    d.x[w] = v.x, d.y[w] = v.y, d.z[w] = v.z;
  }
}

/// Stage 1 (flat detector): unit diffracted directions and air paths of one sub-pixel.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void flat_directions(const SimParams<Real>& p, int fpixel0, int spixel, int subF,
                                                        int subS, Real Odet, LaneVec3<Real, W>& d, Real (&air)[W]) {
  if (p.exact_math) {
    for (int w = 0; w < W; ++w) {
      Vec3<Real> v = flat_subpixel_position(p, fpixel0 + w, spixel, subF, subS, Odet);
      air[w] = unitize(v);
      d.x[w] = v.x, d.y[w] = v.y, d.z[w] = v.z;
    }
  } else {
    // One division per lane instead of three (within an ulp of the C's unitize()).
    NANOBRAGG_SIMD
    for (int w = 0; w < W; ++w) {
      const Vec3<Real> v = flat_subpixel_position(p, fpixel0 + w, spixel, subF, subS, Odet);
      const Real mag = sqrt(v.x * v.x + v.y * v.y + v.z * v.z);
      const Real inv = Real(1) / mag;
      d.x[w] = v.x * inv, d.y[w] = v.y * inv, d.z[w] = v.z * inv;
      air[w] = mag;
    }
  }
}

/// Stage 1 (flat detector): the solid angles from the air paths, where the C evaluates them. The
/// test is per lane but in practice uniform, so it is made once; pending tracks "some lane is 0".
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void flat_solid_angles(const SimParams<Real>& p, const Real (&air)[W],
                                                          Real (&omega)[W], bool& pending) {
  const bool need = p.oversample_omega != 0 || (pending && any_zero(omega));
  if (!need) return;
  if (p.point_pixel) {
    NANOBRAGG_SIMD
    for (int w = 0; w < W; ++w) {
      const Real om = point_solid_angle(air[w]);
      omega[w] = (omega[w] == Real(0) || p.oversample_omega) ? om : omega[w];
    }
  } else {
    NANOBRAGG_SIMD
    for (int w = 0; w < W; ++w) {
      const Real om = pixel_area_solid_angle(p, air[w]);
      omega[w] = (omega[w] == Real(0) || p.oversample_omega) ? om : omega[w];
    }
  }
  pending = any_zero(omega);
}

/// Stage 2: the fraction of photons sensor layer thick_tic absorbs, first sub-pixel or every one.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void sensor_capture(const SimParams<Real>& p, const LaneVec3<Real, W>& d,
                                                       int thick_tic, Real (&capture)[W]) {
  if (p.thick == Real(0) && !p.oversample_thick) return;  // as the C: -oversample_thick recomputes it even then
  for (int w = 0; w < W; ++w) {
    if (capture[w] == Real(0) || p.oversample_thick) capture[w] = capture_fraction(p, {d.x[w], d.y[w], d.z[w]}, thick_tic);
  }
}

/// Stage 3: scattering vectors q = (d - i) / lambda of one source, and the -dmin cut (skip is a
/// Real 0/1 mask, not bool, so the lane loops vectorize). Returns whether every lane is cut.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE bool scattering_vectors(const SimParams<Real>& p, const Vec3<Real>& inc, Real lambda,
                                                           const LaneVec3<Real, W>& d, LaneVec3<Real, W>& q,
                                                           Real (&skip)[W]) {
  if (p.exact_math) {
    for (int w = 0; w < W; ++w) {
      q.x[w] = (d.x[w] - inc.x) / lambda, q.y[w] = (d.y[w] - inc.y) / lambda, q.z[w] = (d.z[w] - inc.z) / lambda;
      skip[w] = Real(0);
    }
  } else {
    const Real inv_lambda = Real(1) / lambda;  // within an ulp of dividing each component
    NANOBRAGG_SIMD
    for (int w = 0; w < W; ++w) {
      q.x[w] = (d.x[w] - inc.x) * inv_lambda, q.y[w] = (d.y[w] - inc.y) * inv_lambda;
      q.z[w] = (d.z[w] - inc.z) * inv_lambda;
      skip[w] = Real(0);
    }
  }
  if (!(p.dmin > Real(0))) return false;
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) {
    const Real stol = Real(0.5) * sqrt(q.x[w] * q.x[w] + q.y[w] * q.y[w] + q.z[w] * q.z[w]);
    skip[w] = ((stol > Real(0)) & (p.dmin > Real(0.5) / stol)) ? Real(1) : Real(0);
  }
  Real skipped = Real(1);
  for (int w = 0; w < W; ++w) skipped *= skip[w];
  return skipped != Real(0);
}

/// Stage 4: the polarization factor for the first surviving source, again whenever it is exactly
/// 0 (Q27) or always with -oversample_polar. Like the C, computing it re-normalizes the diffracted
/// vector that later sources use.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void polarization_lanes(const SimParams<Real>& p, const Vec3<Real>& inc,
                                                           const Real (&skip)[W], Real (&polar)[W], bool& pending,
                                                           LaneVec3<Real, W>& d) {
  if (p.kahn != Real(0)) {
    for (int w = 0; w < W; ++w) {
      if (skip[w] == Real(0) && (polar[w] == Real(0) || p.oversample_polar)) {
        Vec3<Real> i = inc, v = {d.x[w], d.y[w], d.z[w]}, axis = p.polar_axis;
        polar[w] = polarization_factor(p.kahn, i, v, axis);
        d.x[w] = v.x, d.y[w] = v.y, d.z[w] = v.z;
      }
    }
  } else if ((pending || p.oversample_polar) && need_polar(polar, skip, p.oversample_polar)) {
    Vec3<Real> i = inc;
    unitize(i);
    const bool every_time = p.oversample_polar != 0;
    NANOBRAGG_SIMD
    for (int w = 0; w < W; ++w) {
      Vec3<Real> v = {d.x[w], d.y[w], d.z[w]};
      const Real pf = unpolarized_factor(i, v);
      const bool now = (skip[w] == Real(0)) & ((polar[w] == Real(0)) | every_time);
      polar[w] = now ? pf : polar[w];
      d.x[w] = now ? v.x : d.x[w], d.y[w] = now ? v.y : d.y[w], d.z[w] = now ? v.z : d.z[w];
    }
    pending = any_zero(polar);
  }
}

/// Real-space axes a, b, c (m) of one orientation of the component-major table.
template <typename Real>
struct OrientedCell {
  Real ax, ay, az, bx, by, bz, cx, cy, cz;
};

template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE OrientedCell<Real> cell_axes(const Real* cells, int o, int n) {
  const Real* c = cells + o;
  return {c[0], c[n], c[2 * n], c[3 * n], c[4 * n], c[5 * n], c[6 * n], c[7 * n], c[8 * n]};
}

/// Stage 5 (fast path, tricubic F): lattice factor and interpolated F in SIMD lanes. Declines
/// (returns false, nothing decided) when some lane would switch interpolation off.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE bool tricubic_terms(const SimParams<Real>& p, const LatticeSetup<Real>& ls,
                                                       const OrientedCell<Real>& c, const LaneVec3<Real, W>& q,
                                                       const Real (&skip)[W], Real (&term)[W], Real (&keep)[W]) {
  Real h[W], k[W], l[W], F_latt[W], F_cell[W];
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) {
    h[w] = c.ax * q.x[w] + c.ay * q.y[w] + c.az * q.z[w];
    k[w] = c.bx * q.x[w] + c.by * q.y[w] + c.bz * q.z[w];
    l[w] = c.cx * q.x[w] + c.cy * q.y[w] + c.cz * q.z[w];
    F_latt[w] = Real(1);
  }
  if (!ls.single_cell) {
    NANOBRAGG_SIMD
    for (int w = 0; w < W; ++w) {
      const Real hr = round_half_down(h[w]), kr = round_half_down(k[w]), lr = round_half_down(l[w]);
      F_latt[w] = square_lattice_factor(h[w], k[w], l[w], hr, kr, lr, ls.na, ls.nb, ls.nc);
    }
  }
  const FTable<Real> F = p.F;
  if (!interpolate_F_lanes(F, h, k, l, F_cell)) return false;
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) {
    term[w] = F_cell[w] * F_cell[w] * F_latt[w] * F_latt[w];
    keep[w] = kept(skip[w], F_latt[w], ls.no_water);
  }
  return true;
}

/// Stage 5 (fast path, nearest-neighbour F): lattice factor and table lookup in SIMD lanes.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void nearest_terms(const SimParams<Real>& p, const LatticeSetup<Real>& ls,
                                                      const OrientedCell<Real>& c, const LaneVec3<Real, W>& q,
                                                      const Real (&skip)[W], Real (&term)[W], Real (&keep)[W]) {
  const FTable<Real> F = p.F;
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) {
    const Real h = c.ax * q.x[w] + c.ay * q.y[w] + c.az * q.z[w];
    const Real k = c.bx * q.x[w] + c.by * q.y[w] + c.bz * q.z[w];
    const Real l = c.cx * q.x[w] + c.cy * q.y[w] + c.cz * q.z[w];
    const Real hr = round_half_down(h), kr = round_half_down(k), lr = round_half_down(l);
    const Real F_latt = square_lattice_factor(h, k, l, hr, kr, lr, ls.na, ls.nb, ls.nc);
    const Real F_cell = nearest_F_branchless(F, int(hr), int(kr), int(lr));
    term[w] = F_cell * F_cell * F_latt * F_latt;
    // A zero lattice factor skips the term (and the oversample_* products) unless water is on.
    keep[w] = kept(skip[w], F_latt, ls.no_water);
  }
}

/// Stage 5 (general path, lane by lane): every crystal shape, exact_math, traces, and the lanes
/// where tricubic interpolation switches off (recorded in st, Q8).
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void general_terms(const SimParams<Real>& p, const LatticeSetup<Real>& ls,
                                                      const OrientedCell<Real>& c, const LaneVec3<Real, W>& q,
                                                      const Real (&skip)[W], BlockState<W>& st, Real (&term)[W],
                                                      Real (&keep)[W]) {
  const FTable<Real> F = p.F;
  for (int w = 0; w < W; ++w) {
    const Real h = c.ax * q.x[w] + c.ay * q.y[w] + c.az * q.z[w];
    const Real k = c.bx * q.x[w] + c.by * q.y[w] + c.bz * q.z[w];
    const Real l = c.cx * q.x[w] + c.cy * q.y[w] + c.cz * q.z[w];
    int h0, k0, l0;
    if (p.exact_math) {
      h0 = int(ceil(h - Real(0.5))), k0 = int(ceil(k - Real(0.5))), l0 = int(ceil(l - Real(0.5)));
    } else {
      h0 = int(round_half_down(h)), k0 = int(round_half_down(k)), l0 = int(round_half_down(l));
    }
    Real F_latt = Real(1);  // a single unit cell: sincg is not evaluated at all
    if (ls.square && !p.exact_math && !st.trace) {  // a trace prints the C's signed F_latt
      if (!ls.single_cell) F_latt = square_lattice_factor(h, k, l, Real(h0), Real(k0), Real(l0), ls.na, ls.nb, ls.nc);
    } else {
      F_latt = lattice_factor(p.lattice, h, k, l, h0, k0, l0);
    }
    keep[w] = kept(skip[w], F_latt, ls.no_water);
    Real F_cell = F.default_F;
    if (keep[w] != Real(0)) {
      if (st.interpolate[w] && interpolation_out_of_range(F, h, k, l)) {
        st.interpolate[w] = false;
        st.switched_off[w] = true;
        st.switch_hkl[w][0] = double(h), st.switch_hkl[w][1] = double(k), st.switch_hkl[w][2] = double(l);
      }
      if (!st.interpolate[w]) {
        F_cell = nearest_F(F, h0, k0, l0);
      } else if (!interpolation_inside(F, h, k, l)) {
        // A NaN index passes the C's range test (and makes it read outside the table): no
        // physical value, so NaN, which the command line then refuses.
        F_cell = Real(NAN);
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
      const Real abc[9] = {c.ax, c.ay, c.az, c.bx, c.by, c.bz, c.cx, c.cy, c.cz};
      for (int i = 0; i < 9; ++i) t.cell[i] = double(abc[i]);
    }
  }
}

/// Stage 5: F_cell^2 F_latt^2 of one orientation in every lane, by the fastest path that gives
/// the C's value there.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void lattice_terms(const SimParams<Real>& p, const LatticeSetup<Real>& ls,
                                                      const OrientedCell<Real>& c, const LaneVec3<Real, W>& q,
                                                      const Real (&skip)[W], BlockState<W>& st, Real (&term)[W],
                                                      Real (&keep)[W]) {
  bool any_interp = false, all_interp = true;
  for (int w = 0; w < W; ++w) any_interp |= st.interpolate[w], all_interp &= st.interpolate[w];
  if (ls.fast && all_interp && tricubic_terms(p, ls, c, q, skip, term, keep)) return;
  if (ls.fast && !any_interp) {
    nearest_terms(p, ls, c, q, skip, term, keep);
  } else {
    general_terms(p, ls, c, q, skip, st, term, keep);
  }
}

/// Stage 5b (opt-in source weights): the term of this source times its weight / mean weight.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void weigh_source(Real weight, Real (&term)[W]) {
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) term[w] *= weight;
}

/// Stage 6: add the kept terms; with -oversample_thick/polar/omega the C multiplies the running
/// sum by those factors after every term.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void accumulate(const SimParams<Real>& p, bool any_post, const Real (&term)[W],
                                                   const Real (&keep)[W], PixelLanes<Real, W>& px) {
  if (!any_post) {
    NANOBRAGG_SIMD
    for (int w = 0; w < W; ++w) px.I[w] += keep[w] != Real(0) ? term[w] : Real(0);
    return;
  }
  for (int w = 0; w < W; ++w) {
    if (keep[w] == Real(0)) continue;
    px.I[w] += term[w];
    if (p.oversample_thick) px.I[w] *= px.capture[w];
    if (p.oversample_polar) px.I[w] *= px.polar[w];
    if (p.oversample_omega) px.I[w] *= px.omega[w];
  }
}

/// Stage 7: photons per pixel, with the factors not already multiplied in per evaluation.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void finish_lanes(const SimParams<Real>& p, const PixelLanes<Real, W>& px,
                                                     Real* value) {
  const Real photons = p.r_e_sqr * p.fluence;
  const bool by_capture = !p.oversample_thick, by_polar = !p.oversample_polar, by_omega = !p.oversample_omega;
  NANOBRAGG_SIMD
  for (int w = 0; w < W; ++w) {
    Real v = photons * px.I[w] / p.steps;
    v = by_capture ? v * px.capture[w] : v;
    v = by_polar ? v * px.polar[w] : v;
    v = by_omega ? v * px.omega[w] : v;
    value[w] = v;
  }
}

/// The C's per-pixel computation (nanoBragg.c L2568-L3049) for W adjacent pixels of row spixel
/// starting at fpixel0, in lockstep: every loop over pixels ("lanes") is independent, so the
/// CPU runs it in SIMD registers, while each lane follows the C's loop and accumulation order
/// exactly. W == 1 is the plain per-pixel kernel (GPU threads, row tails, the first pixel).
/// The caller skips ROI and mask; exact_math selects libm sin/ceil (bit-identical to the C) over
/// the fast lattice path. The loops are the C's: sensor layers, sub-pixels, sources, orientations.
template <typename Real, int W>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void pixel_block(const SimParams<Real>& p, int fpixel0, int spixel,
                                                    BlockState<W>& st, Real* value) {
  PixelLanes<Real, W> px;
  start_lanes(p, st, px);
  const LatticeSetup<Real> ls = lattice_setup(p, st.trace != nullptr);
  const Real* cells = st.first_evaluation ? p.cells_first : p.cells;
  const bool any_post = p.oversample_thick || p.oversample_polar || p.oversample_omega;
  // Some lane's solid angle / polarization may still be 0: only then are the lanes checked (the
  // C computes both at a pixel's first evaluation, and again wherever they are exactly 0).
  bool omega_pending = true, polar_pending = true;

  for (int thick_tic = 0; thick_tic < p.thicksteps; ++thick_tic) {
    const Real Odet = Real(thick_tic) * p.thickstep;
    for (int w = 0; w < W; ++w) px.capture[w] = (p.thick == Real(0)) ? Real(1) : Real(0);
    for (int subS = 0; subS < p.oversample; ++subS) {
      for (int subF = 0; subF < p.oversample; ++subF) {
        LaneVec3<Real, W> d;
        if (p.curved_detector) {
          curved_directions(p, fpixel0, spixel, subF, subS, Odet, d, px.omega);
        } else {
          Real air[W];
          flat_directions(p, fpixel0, spixel, subF, subS, Odet, d, air);
          flat_solid_angles(p, air, px.omega, omega_pending);
        }
        NANOBRAGG_SIMD
        for (int w = 0; w < W; ++w) st.omega_sum[w] += double(px.omega[w]);
        if (st.trace) {
          const Vec3<Real> pos = subpixel_position(p, fpixel0, spixel, subF, subS, Odet);
          st.trace->pos[0] = double(pos.x), st.trace->pos[1] = double(pos.y), st.trace->pos[2] = double(pos.z);
        }
        sensor_capture(p, d, thick_tic, px.capture);
        for (int src = 0; src < p.n_sources; ++src) {
          const Vec3<Real> inc = {-p.source_dir[3 * src], -p.source_dir[3 * src + 1], -p.source_dir[3 * src + 2]};
          LaneVec3<Real, W> q;
          Real skip[W];
          const bool all_cut = scattering_vectors(p, inc, p.source_lambda[src], d, q, skip);
          if (st.trace) st.trace->stol = double(Real(0.5) * sqrt(q.x[0] * q.x[0] + q.y[0] * q.y[0] + q.z[0] * q.z[0]));
          if (all_cut) continue;
          polarization_lanes(p, inc, skip, px.polar, polar_pending, d);
          for (int o = 0; o < ls.n_orient; ++o) {
            Real term[W], keep[W];
            lattice_terms(p, ls, cell_axes(cells, o, ls.n_orient), q, skip, st, term, keep);
            if (p.source_weight) weigh_source(p.source_weight[src], term);
            accumulate(p, any_post, term, keep, px);
          }
          // Every later evaluation of this render sees the stale phi orientation (W == 1 here).
          if (skip[0] == Real(0)) cells = p.cells;
        }
      }
    }
  }
  if (st.trace) {  // W == 1
    st.trace->I = double(px.I[0]), st.trace->polar = double(px.polar[0]);
    st.trace->omega = double(px.omega[0]), st.trace->capture = double(px.capture[0]);
  }
  finish_lanes(p, px, value);
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
