/// The per-pixel physics of nonBragg.c (L1410-L1545, NONBRAGG.md section 8): scattering of an
/// amorphous sample from a structure-factor table F(sin(theta)/lambda), summed over sub-pixels and
/// sources with solid angle, polarization and source weights. Host and device code.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>
#include "hd.hpp"
#include "polarization.hpp"     // for polarization_factor
#include "structure_factor.hpp" // for polint
#include "vec3.hpp"

namespace nanobragg {

/// The padded table of the C: entries 0, 1 and n-2, n-1 are the +-1e98/1e99 sentinels, stol in
/// 1/m. monotonic: the stol column never decreases (then a look-up needs no history, see below).
template <typename Real>
struct StolTable {
  const Real* stol;
  const Real* F;
  int n;
  int monotonic;
  // A starting guess for look-ups on a monotonic table: bucket b of width 1/bucket_scale from
  // bucket_origin holds the last entry <= its lower edge (only a guess: the walk checks it).
  const int* bucket;
  int buckets;
  Real bucket_origin, bucket_scale;
};

/// nonBragg.c's look-up walk (L1506-L1507): `nearest` persists from one evaluation to the next.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE int walk_nearest(const StolTable<Real>& t, Real stol, int nearest) {
  while (stol > t.stol[nearest] && nearest <= t.n) ++nearest;
  while (stol < t.stol[nearest] && nearest >= 2) --nearest;
  return nearest;
}

/// The last entry <= stol, walking from hint (any index; the previous answer is a good one); the
/// sentinels stop the walk at 1 and n-3. Not for a NaN stol.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE int last_at_or_below(const StolTable<Real>& t, Real stol, int hint) {
  int i = hint < 1 ? 1 : (hint > t.n - 3 ? t.n - 3 : hint);
  while (t.stol[i + 1] <= stol) ++i;
  while (t.stol[i] > stol) --i;
  return i;
}

/// A starting index for last_at_or_below (the bucket of stol, else the previous answer).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE int bucket_guess(const StolTable<Real>& t, Real stol, int previous) {
  if (t.buckets <= 0) return previous;
  const Real b = (stol - t.bucket_origin) * t.bucket_scale;
  if (!(b >= Real(0))) return 1;
  return b < Real(t.buckets) ? t.bucket[int(b)] : t.n - 3;
}

/// last_at_or_below() from stol's bucket without the walk's chain of dependent loads: the three
/// entries from the bucket's guess g are read at once, and on a non-decreasing table the answer is
/// g or g + 1 when t[g] <= stol < t[g+2] (buckets are about one point wide, so nearly always); the
/// walk from g otherwise. For a monotonic table and a stol that is not NaN.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE int bucket_lookup(const StolTable<Real>& t, Real stol, int hint) {
  const int top = t.n - 3;
  int g = bucket_guess(t, stol, hint);
  g = g < 1 ? 1 : (g > top ? top : g);
  const bool c0 = t.stol[g] <= stol, c1 = t.stol[g + 1] <= stol, c2 = t.stol[g + 2] <= stol;
  if (c0 && !c2) return c1 ? g + 1 : g;
  return last_at_or_below(t, stol, g);
}

/// The walk's result on a non-decreasing table, computed without the walk's history. With
/// lo..hi the run of entries equal to stol, the walk ends at hi when there is none, else at
/// `previous` clamped to [lo, hi]; a NaN stol leaves it at `previous`. determined: the result
/// did not depend on previous. hint: where to start looking (updated).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE int monotonic_nearest(const StolTable<Real>& t, Real stol, int previous,
                                                         int& hint, bool& determined) {
  determined = false;
  if (!(stol == stol)) return previous;
  const int hi = bucket_lookup(t, stol, hint);
  hint = hi;
  if (t.stol[hi] != stol) {
    determined = true;
    return hi;
  }
  int lo = hi;
  while (lo > 1 && t.stol[lo - 1] == stol) --lo;
  return previous < lo ? lo : (previous > hi ? hi : previous);
}

/// F at stol: 4-point Lagrange through entries nearest-1 .. nearest+2 (the C's "cubic spline").
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real table_F(const StolTable<Real>& t, int nearest, Real stol) {
  return polint(t.stol + nearest - 1, t.F + nearest - 1, stol);
}

/// Everything the amorphous kernel reads; trivially copyable (goes to a kernel by value).
template <typename Real>
struct AmorphousParams {
  int fpixels, spixels;
  int roi_xmin, roi_xmax, roi_ymin, roi_ymax;  // inclusive, as the C
  Real pixel_size, subpixel_size;
  int oversample;
  Vec3<Real> fdet, sdet, odet, pix0, beam;
  Real distance, close_distance;
  int curved_detector, point_pixel;
  int nopolar;
  Real kahn;
  Vec3<Real> polar_axis;  // as every call of polarization_factor sees it (re-normalized once)
  int n_sources;
  const Real* source_dir;     // 3 per source: unit vector from the sample towards the source
  const Real* source_pol_dir; // 3 per source: the incident direction as polarization_factor
                              // re-normalizes it (unit(-source_dir)), for the K = 0 factor
  const Real* source_lambda;  // m
  const Real* source_weight;  // the C uses them (B10)
  StolTable<Real> table;
  int corrected;  // 1: stateless look-up (order independent), 0: the C's persistent walk
  int Fmap;       // store the last F instead of the intensity
  Real r_e_sqr, fluence, molecules, steps;
};

/// What one pixel leaves behind: the value to store and the last evaluation's terms (the -img
/// extraction and -printout read them).
template <typename Real>
struct AmorphousPixel {
  Real value;  // photons (or F with -Fmap)
  Real I;      // unscaled sum
  Real F, stol, polar, omega;
  Real omega_sum;  // over the sub-pixels (the C's console total)
  int nearest;
};

/// The walk state carried from one evaluation to the next in the C's raster order. known: the
/// state is the C's (from the start of the image, or after a look-up that did not depend on it);
/// unknown_used: a look-up depended on a state that was not known (the pixel must be rendered
/// again once the state coming in is known).
struct WalkState {
  int nearest;
  int known;
  int unknown_used;
  int hint;  // the last answer of the look-up (a starting point only)
};

/// The direction-independent part of one sub-pixel: its position (curved detector included).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Vec3<Real> subpixel_position(const AmorphousParams<Real>& p, int fpixel,
                                                                int spixel, int subF, int subS) {
  const Real Fdet = p.subpixel_size * (fpixel * p.oversample + subF) + p.subpixel_size / Real(2);
  const Real Sdet = p.subpixel_size * (spixel * p.oversample + subS) + p.subpixel_size / Real(2);
  const Real Odet = Real(0);  // one sensor layer of zero thickness
  Vec3<Real> pos = {Fdet * p.fdet.x + Sdet * p.sdet.x + Odet * p.odet.x + p.pix0.x,
                    Fdet * p.fdet.y + Sdet * p.sdet.y + Odet * p.odet.y + p.pix0.y,
                    Fdet * p.fdet.z + Sdet * p.sdet.z + Odet * p.odet.z + p.pix0.z};
  if (p.curved_detector) pos = curved_detector_position(pos, p.distance, p.beam, p.sdet, p.fdet);
  return pos;
}

/// One pixel in the C's order; walk: the look-up state, updated as the C updates it.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE AmorphousPixel<Real> amorphous_pixel(const AmorphousParams<Real>& p, int fpixel,
                                                                        int spixel, WalkState& walk) {
  AmorphousPixel<Real> r{};
  Real Ibg = Real(0);
  Real F = Real(0), stol = Real(0), polar = Real(1), omega = Real(0), omega_sum = Real(0);
  Vec3<Real> axis = p.polar_axis;
  for (int subS = 0; subS < p.oversample; ++subS) {
    for (int subF = 0; subF < p.oversample; ++subF) {
      Vec3<Real> diffracted = subpixel_position(p, fpixel, spixel, subF, subS);
      const Real airpath = unitize(diffracted);
      omega = p.pixel_size * p.pixel_size / airpath / airpath * p.close_distance / airpath;
      if (p.point_pixel) omega = Real(1) / airpath / airpath;
      omega_sum += omega;
      for (int source = 0; source < p.n_sources; ++source) {
        Vec3<Real> incident = {-p.source_dir[3 * source], -p.source_dir[3 * source + 1],
                               -p.source_dir[3 * source + 2]};
        const Real lambda = p.source_lambda[source];
        const Vec3<Real> q = {(diffracted.x - incident.x) / lambda, (diffracted.y - incident.y) / lambda,
                              (diffracted.z - incident.z) / lambda};
        stol = Real(0.5) * magnitude(q);
        if (p.corrected) {
          walk.nearest = stol == stol ? bucket_lookup(p.table, stol, walk.hint) : 1;
          walk.hint = walk.nearest;
        } else if (p.table.monotonic) {
          bool determined = false;
          walk.nearest = monotonic_nearest(p.table, stol, walk.nearest, walk.hint, determined);
          if (determined) walk.known = 1;
          else if (!walk.known) walk.unknown_used = 1;
        } else {
          walk.nearest = walk_nearest(p.table, stol, walk.nearest);
        }
        F = table_F(p.table, walk.nearest, stol);
        const Real sign = F < Real(0) ? Real(-1) : Real(1);
        if (p.nopolar) {
          polar = Real(1);
        } else if (p.kahn == Real(0)) {
          // polarization_factor with K = 0: no angle, and the axis is not read.
          const Vec3<Real> pol_incident = {p.source_pol_dir[3 * source], p.source_pol_dir[3 * source + 1],
                                           p.source_pol_dir[3 * source + 2]};
          polar = unpolarized_factor(pol_incident, diffracted);
        } else {
          polar = polarization_factor(p.kahn, incident, diffracted, axis);
        }
        Ibg += sign * F * F * polar * omega * p.source_weight[source] * Real(1);
      }
    }
  }
  r.I = Ibg;
  r.value = Ibg * p.r_e_sqr * p.fluence * p.molecules / p.steps;
  if (p.Fmap) r.value = F;
  r.F = F, r.stol = stol, r.polar = polar, r.omega = omega, r.omega_sum = omega_sum;
  r.nearest = walk.nearest;
  return r;
}

#if defined(__GNUC__) && !defined(__CUDACC__)
template <typename Real>
struct QuadIndexOf {
  typedef long long type8 __attribute__((vector_size(32)));
  typedef int type4 __attribute__((vector_size(16)));
};
/// Elements i, j, k, l of the eight in (a, b) (GCC's and Clang's spelling of a constant shuffle).
#if defined(__clang__)
#define NANOBRAGG_SHUFFLE(Real, a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
#define NANOBRAGG_SHUFFLE(Real, a, b, i, j, k, l)                                                   \
  __builtin_shuffle(a, b,                                                                           \
                    typename std::conditional<sizeof(Real) == 8, typename QuadIndexOf<Real>::type8, \
                                              typename QuadIndexOf<Real>::type4>::type{i, j, k, l})
#endif

/// polint()'s four terms at x through xa[0..3], ya[0..3], in one register: lane k holds term k,
/// its three differences (x - xa[j]) and (xa[k] - xa[j]) in the C's order of j, so every lane
/// is the C's expression. (T an out-parameter: no vector ABI.)
template <typename Real>
NANOBRAGG_FORCEINLINE void polint_terms(const Real* xa, const Real* ya, Real x, Quad<Real>& T) {
  Quad<Real> X, Y;
  load_quad(xa, X), load_quad(ya, Y);
  const Quad<Real> xs = {x, x, x, x};
  const Quad<Real> j0 = NANOBRAGG_SHUFFLE(Real, X, X, 1, 0, 0, 0), j1 = NANOBRAGG_SHUFFLE(Real, X, X, 2, 2, 1, 1);
  const Quad<Real> j2 = NANOBRAGG_SHUFFLE(Real, X, X, 3, 3, 3, 2);
  T = (xs - j0) * (xs - j1) * (xs - j2) * Y / ((X - j0) * (X - j1) * (X - j2));
}

/// polint() for four lanes: F[k] at x[k] through the four points from entry first[k]; the
/// terms of each lane summed t0 + t1 + t2 + t3 in that order, after a transpose so the sums run
/// across lanes.
template <typename Real>
NANOBRAGG_FORCEINLINE void polint_lanes4(const StolTable<Real>& t, const int first[4], const Real x[4], Real* F) {
  Quad<Real> T0, T1, T2, T3;
  polint_terms(t.stol + first[0], t.F + first[0], x[0], T0), polint_terms(t.stol + first[1], t.F + first[1], x[1], T1);
  polint_terms(t.stol + first[2], t.F + first[2], x[2], T2), polint_terms(t.stol + first[3], t.F + first[3], x[3], T3);
  const Quad<Real> lo01 = NANOBRAGG_SHUFFLE(Real, T0, T1, 0, 4, 2, 6), hi01 = NANOBRAGG_SHUFFLE(Real, T0, T1, 1, 5, 3, 7);
  const Quad<Real> lo23 = NANOBRAGG_SHUFFLE(Real, T2, T3, 0, 4, 2, 6), hi23 = NANOBRAGG_SHUFFLE(Real, T2, T3, 1, 5, 3, 7);
  const Quad<Real> sum = NANOBRAGG_SHUFFLE(Real, lo01, lo23, 0, 1, 4, 5) + NANOBRAGG_SHUFFLE(Real, hi01, hi23, 0, 1, 4, 5) +
                         NANOBRAGG_SHUFFLE(Real, lo01, lo23, 2, 3, 6, 7) + NANOBRAGG_SHUFFLE(Real, hi01, hi23, 2, 3, 6, 7);
  std::memcpy(F, &sum, sizeof sum);
}
#undef NANOBRAGG_SHUFFLE
#else
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void polint_lanes4(const StolTable<Real>& t, const int first[4], const Real x[4], Real* F) {
  for (int k = 0; k < 4; ++k) F[k] = polint(t.stol + first[k], t.F + first[k], x[k]);
}
#endif

/// bucket_lookup()'s answer from its clamped guess g. tie: the answer's stol equals stol (when
/// the guess holds, that is stol[g] or stol[g+1], both read already).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE int lookup_from_guess(const StolTable<Real>& t, Real stol, int g, bool& tie) {
  const Real s0 = t.stol[g], s1 = t.stol[g + 1], s2 = t.stol[g + 2];
  if (s0 <= stol && !(s2 <= stol)) {
    tie = (s0 == stol) | (s1 == stol);  // stol[g] <= stol <= stol[g+1]: equal to the answer's
    return g + int(s1 <= stol);         // arithmetic, not a branch: a coin toss
  }
  const int i = last_at_or_below(t, stol, g);
  tie = t.stol[i] == stol;
  return i;
}

/// bucket_lookup() with lookup_from_guess()'s tie.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE int bucket_lookup(const StolTable<Real>& t, Real stol, int hint, bool& tie) {
  const int top = t.n - 3;
  const int g = bucket_guess(t, stol, hint);
  return lookup_from_guess(t, stol, g < 1 ? 1 : (g > top ? top : g), tie);
}

/// unitize() on components (for lanes): v / |v|, a zero vector stays zero; returns |v|.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real unitize3(Real& x, Real& y, Real& z) {
  const Real mag = sqrt(x * x + y * y + z * z);
  const bool ok = mag != Real(0);
  x = ok ? x / mag : Real(0), y = ok ? y / mag : Real(0), z = ok ? z / mag : Real(0);
  return mag;
}

/// The diffracted directions of sub-pixel (subF, subS) of kLanes adjacent pixels from f0, unit
/// vectors as amorphous_pixel makes them (flat detector in SIMD, curved per lane), their solid
/// angles in omega and added to omega_sum.
template <int kLanes, typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE void lane_directions(const AmorphousParams<Real>& p, int f0, int spixel, int subF, int subS,
                                                        Real* dx, Real* dy, Real* dz, Real* omega, Real* omega_sum) {
  const Real sub = p.subpixel_size;
  if (p.curved_detector) {
    for (int w = 0; w < kLanes; ++w) {
      const Vec3<Real> d = subpixel_position(p, f0 + w, spixel, subF, subS);
      dx[w] = d.x, dy[w] = d.y, dz[w] = d.z;
    }
  } else {
    const Real Sdet = sub * (spixel * p.oversample + subS) + sub / Real(2);
    NANOBRAGG_SIMD
    for (int w = 0; w < kLanes; ++w) {
      // subpixel_position() of a flat detector (Odet = 0 is added as the C adds it).
      const Real Fdet = sub * ((f0 + w) * p.oversample + subF) + sub / Real(2);
      const Real Odet = Real(0);
      dx[w] = Fdet * p.fdet.x + Sdet * p.sdet.x + Odet * p.odet.x + p.pix0.x;
      dy[w] = Fdet * p.fdet.y + Sdet * p.sdet.y + Odet * p.odet.y + p.pix0.y;
      dz[w] = Fdet * p.fdet.z + Sdet * p.sdet.z + Odet * p.odet.z + p.pix0.z;
    }
  }
  NANOBRAGG_SIMD
  for (int w = 0; w < kLanes; ++w) {
    const Real airpath = unitize3(dx[w], dy[w], dz[w]);
    Real om = p.pixel_size * p.pixel_size / airpath / airpath * p.close_distance / airpath;
    if (p.point_pixel) om = Real(1) / airpath / airpath;
    omega[w] = om;
    omega_sum[w] += om;
  }
}

/// kLanes adjacent pixels of one row at once, every one in the ROI: amorphous_pixel's arithmetic
/// per lane, written on components so the host compiler runs the lanes in SIMD registers (the
/// look-up, a curved detector and a Kahn factor other than 0 stay scalar). For a monotonic table
/// or -corrected only. Returns false, with out untouched, when a look-up tied with a table point
/// (its result then depends on the walk state: the caller renders the lanes one by one instead).
/// walk: updated as amorphous_pixel would. kChunk: sources looked up together (see below).
template <int kLanes, typename Real, int kChunk = 8>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE bool amorphous_block(const AmorphousParams<Real>& p, int f0, int spixel,
                                                        WalkState& walk, AmorphousPixel<Real>* out) {
  static_assert(kLanes % 4 == 0, "the table is read four lanes at a time");
  Real I[kLanes], F[kLanes], stol[kLanes], polar[kLanes], omega[kLanes], omega_sum[kLanes];
  Real dx[kLanes], dy[kLanes], dz[kLanes];
  int idx[kLanes];
  int hint = walk.hint;
  const StolTable<Real> t = p.table;
  const Real buckets = Real(t.buckets > 0 ? t.buckets : 0);
  for (int w = 0; w < kLanes; ++w) I[w] = Real(0), omega_sum[w] = Real(0), F[w] = Real(0), polar[w] = Real(1);
  for (int subS = 0; subS < p.oversample; ++subS) {
    for (int subF = 0; subF < p.oversample; ++subF) {
      lane_directions<kLanes>(p, f0, spixel, subF, subS, dx, dy, dz, omega, omega_sum);
      // The diffracted directions are a fixed point of unitize3 (with -nopolar nothing changes them).
      bool settled = p.nopolar != 0;
      for (int s0 = 0; s0 < p.n_sources;) {
        // Once the directions no longer change, kChunk sources at a time: their look-ups are
        // independent, so their chains of loads overlap. Before that (and with a Kahn factor
        // other than 0, whose polarization_factor re-normalizes them), one source at a time.
        const bool fixed = settled && (p.nopolar || p.kahn == Real(0));
        const int chunk = fixed ? (p.n_sources - s0 < kChunk ? p.n_sources - s0 : kChunk) : 1;
        Real cstol[kChunk][kLanes], cF[kChunk][kLanes];
        int cidx[kChunk][kLanes], bucket_of[kChunk][kLanes];  // bucket_guess()'s, all lanes at once
        int in_buckets = 0;  // lanes whose stol falls in a bucket (not NaN, not off the ends)
        for (int c = 0; c < chunk; ++c) {
          const int source = s0 + c;
          const Real ix = -p.source_dir[3 * source], iy = -p.source_dir[3 * source + 1];
          const Real iz = -p.source_dir[3 * source + 2];
          const Real lambda = p.source_lambda[source];
          NANOBRAGG_SIMD
          for (int w = 0; w < kLanes; ++w) {
            const Real qx = (dx[w] - ix) / lambda, qy = (dy[w] - iy) / lambda, qz = (dz[w] - iz) / lambda;
            const Real st = Real(0.5) * sqrt(qx * qx + qy * qy + qz * qz);
            const Real b = (st - t.bucket_origin) * t.bucket_scale;
            const bool inside = b >= Real(0) && b < buckets;
            in_buckets += inside ? 1 : 0;
            bucket_of[c][w] = int(inside ? b : Real(0));
            cstol[c][w] = st;
          }
        }
        const bool all_in_buckets = in_buckets == chunk * kLanes;
        bool ties = false;  // a look-up whose answer's stol equals the lane's
        for (int c = 0; c < chunk; ++c) {
          for (int w0 = 0; w0 < kLanes; w0 += 4) {
            int first[4];  // polint reads entries nearest-1 .. nearest+2
            for (int w = w0; w < w0 + 4; ++w) {
              bool tie = false;
              const Real st = cstol[c][w];
              if (all_in_buckets) {
                hint = lookup_from_guess(t, st, t.bucket[bucket_of[c][w]], tie);  // entries are in [1, n-3]
              } else {
                if (!(st == st)) return false;
                hint = bucket_lookup(t, st, hint, tie);
              }
              ties |= tie;
              cidx[c][w] = hint;
              first[w - w0] = hint - 1;
            }
            polint_lanes4(t, first, cstol[c] + w0, cF[c] + w0);
          }
        }
        if (ties && !p.corrected) return false;
        for (int c = 0; c < chunk; ++c) {
          const int source = s0 + c;
          if (p.nopolar) {
            for (int w = 0; w < kLanes; ++w) polar[w] = Real(1);
          } else if (p.kahn == Real(0)) {
            // unpolarized_factor(): re-normalizes the diffracted direction in place, source after
            // source. Once every lane's length came out exactly 1 the vectors no longer change
            // (v / 1 == v), so the later sources of this sub-pixel skip it: the same bits.
            const Real px = p.source_pol_dir[3 * source], py = p.source_pol_dir[3 * source + 1];
            const Real pz = p.source_pol_dir[3 * source + 2];
            if (!settled) {
              int unit = 0;
              NANOBRAGG_SIMD
              for (int w = 0; w < kLanes; ++w) unit += unitize3(dx[w], dy[w], dz[w]) == Real(1) ? 1 : 0;
              settled = unit == kLanes;
            }
            NANOBRAGG_SIMD
            for (int w = 0; w < kLanes; ++w) {
              const Real cs = px * dx[w] + py * dy[w] + pz * dz[w];
              polar[w] = Real(0.5) * (Real(1) + cs * cs);
            }
          } else {
            const Real ix = -p.source_dir[3 * source], iy = -p.source_dir[3 * source + 1];
            const Real iz = -p.source_dir[3 * source + 2];
            for (int w = 0; w < kLanes; ++w) {
              Vec3<Real> incident = {ix, iy, iz}, d = {dx[w], dy[w], dz[w]}, axis = p.polar_axis;
              polar[w] = polarization_factor(p.kahn, incident, d, axis);
              dx[w] = d.x, dy[w] = d.y, dz[w] = d.z;
            }
          }
          const Real weight = p.source_weight[source];
          NANOBRAGG_SIMD
          for (int w = 0; w < kLanes; ++w) {
            const Real f = cF[c][w];
            const Real sign = f < Real(0) ? Real(-1) : Real(1);
            I[w] += sign * f * f * polar[w] * omega[w] * weight * Real(1);
          }
        }
        for (int w = 0; w < kLanes; ++w) {
          stol[w] = cstol[chunk - 1][w], F[w] = cF[chunk - 1][w], idx[w] = cidx[chunk - 1][w];
        }
        s0 += chunk;
      }
    }
  }
  for (int w = 0; w < kLanes; ++w) {
    AmorphousPixel<Real>& r = out[w];
    r.I = I[w];
    r.value = p.Fmap ? F[w] : I[w] * p.r_e_sqr * p.fluence * p.molecules / p.steps;
    r.F = F[w], r.stol = stol[w], r.polar = polar[w], r.omega = omega[w], r.omega_sum = omega_sum[w];
    r.nearest = idx[w];
  }
  walk.hint = hint;
  if (p.n_sources > 0) walk.nearest = idx[kLanes - 1], walk.known = 1;
  return true;
}

/// Evaluations (lanes x sub-pixels x sources) amorphous_block_in_order keeps: its scratch bound.
constexpr int kInOrderEvaluations = 1024;

/// Whether amorphous_block_in_order<kLanes> can render a block of p (its scratch holds them).
template <int kLanes, typename Real>
inline bool in_order_block_fits(const AmorphousParams<Real>& p) {
  const long long per_pixel = (long long)p.oversample * p.oversample * p.n_sources;
  return per_pixel > 0 && per_pixel * kLanes <= kInOrderEvaluations;
}

/// kLanes adjacent pixels of one row, every one in the ROI, for the C's persistent walk on any
/// table (one whose stol column goes back included). Everything but the walk is independent of
/// it: the lanes' stol of every evaluation (sub-pixel, then source, as amorphous_pixel) and their
/// polarization factors are computed in SIMD and kept, then the walk runs over them serially in
/// the C's order (lane 0's evaluations, then lane 1's, ...), then the interpolation and the sums
/// run in SIMD again, each lane's terms in amorphous_pixel's order: the same bits. walk.nearest:
/// carried on as amorphous_pixel carries it. Host only; needs in_order_block_fits(p).
template <int kLanes, typename Real>
NANOBRAGG_FORCEINLINE void amorphous_block_in_order(const AmorphousParams<Real>& p, int f0, int spixel,
                                                    WalkState& walk, AmorphousPixel<Real>* out) {
  static_assert(kLanes % 4 == 0, "the table is read four lanes at a time");
  static_assert(kInOrderEvaluations % kLanes == 0, "whole evaluations of every lane");
  constexpr int kMax = kInOrderEvaluations / kLanes;  // evaluations per pixel
  // [evaluation][lane]; omega: [sub-pixel][lane].
  Real stol[kMax][kLanes], polar[kMax][kLanes], omega[kMax][kLanes];
  int nearest[kMax][kLanes];
  Real I[kLanes], omega_sum[kLanes], F[kLanes];
  Real dx[kLanes], dy[kLanes], dz[kLanes];
  const StolTable<Real> t = p.table;
  const int ns = p.n_sources;
  for (int w = 0; w < kLanes; ++w) I[w] = Real(0), omega_sum[w] = Real(0);
  int e = 0, sp = 0;  // evaluation, sub-pixel
  for (int subS = 0; subS < p.oversample; ++subS) {
    for (int subF = 0; subF < p.oversample; ++subF, ++sp) {
      lane_directions<kLanes>(p, f0, spixel, subF, subS, dx, dy, dz, omega[sp], omega_sum);
      for (int source = 0; source < ns; ++source, ++e) {
        // The stol of a source sees the diffracted vector as the previous source's polarization
        // factor left it (re-normalized in place).
        const Real ix = -p.source_dir[3 * source], iy = -p.source_dir[3 * source + 1];
        const Real iz = -p.source_dir[3 * source + 2];
        const Real lambda = p.source_lambda[source];
        NANOBRAGG_SIMD
        for (int w = 0; w < kLanes; ++w) {
          const Real qx = (dx[w] - ix) / lambda, qy = (dy[w] - iy) / lambda, qz = (dz[w] - iz) / lambda;
          stol[e][w] = Real(0.5) * sqrt(qx * qx + qy * qy + qz * qz);
        }
        if (p.nopolar) {
          for (int w = 0; w < kLanes; ++w) polar[e][w] = Real(1);
        } else if (p.kahn == Real(0)) {
          const Real px = p.source_pol_dir[3 * source], py = p.source_pol_dir[3 * source + 1];
          const Real pz = p.source_pol_dir[3 * source + 2];
          NANOBRAGG_SIMD
          for (int w = 0; w < kLanes; ++w) {
            unitize3(dx[w], dy[w], dz[w]);  // unpolarized_factor()
            const Real cs = px * dx[w] + py * dy[w] + pz * dz[w];
            polar[e][w] = Real(0.5) * (Real(1) + cs * cs);
          }
        } else {
          for (int w = 0; w < kLanes; ++w) {
            Vec3<Real> incident = {ix, iy, iz}, d = {dx[w], dy[w], dz[w]}, axis = p.polar_axis;
            polar[e][w] = polarization_factor(p.kahn, incident, d, axis);
            dx[w] = d.x, dy[w] = d.y, dz[w] = d.z;
          }
        }
      }
    }
  }
  const int evaluations = e;
  int at = walk.nearest;  // the C's walk, in its order
  for (int w = 0; w < kLanes; ++w) {
    for (int k = 0; k < evaluations; ++k) nearest[k][w] = at = walk_nearest(t, stol[k][w], at);
  }
  walk.nearest = at;
  for (int k = 0; k < evaluations; ++k) {
    for (int w0 = 0; w0 < kLanes; w0 += 4) {
      const int first[4] = {nearest[k][w0] - 1, nearest[k][w0 + 1] - 1, nearest[k][w0 + 2] - 1,
                            nearest[k][w0 + 3] - 1};  // table_F()'s points
      polint_lanes4(t, first, stol[k] + w0, F + w0);
    }
    const Real weight = p.source_weight[k % ns];
    const int s = k / ns;
    NANOBRAGG_SIMD
    for (int w = 0; w < kLanes; ++w) {
      const Real f = F[w];
      const Real sign = f < Real(0) ? Real(-1) : Real(1);
      I[w] += sign * f * f * polar[k][w] * omega[s][w] * weight * Real(1);
    }
  }
  const int last = evaluations - 1;  // F holds the last evaluation's
  for (int w = 0; w < kLanes; ++w) {
    AmorphousPixel<Real>& r = out[w];
    r.I = I[w];
    r.value = p.Fmap ? F[w] : I[w] * p.r_e_sqr * p.fluence * p.molecules / p.steps;
    r.F = F[w], r.stol = stol[last][w], r.polar = polar[last][w], r.omega = omega[last / ns][w];
    r.omega_sum = omega_sum[w];
    r.nearest = nearest[last][w];
  }
}

/// Whether the C renders pixel (f, s).
template <typename Real>
NANOBRAGG_HD inline bool amorphous_in_roi(const AmorphousParams<Real>& p, int f, int s) {
  return !(f < p.roi_xmin || f > p.roi_xmax || s < p.roi_ymin || s > p.roi_ymax);
}

}  // namespace nanobragg
