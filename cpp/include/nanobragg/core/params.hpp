/// SimParams: the trivially copyable bundle of everything the per-pixel kernel reads, handed by
/// value to the CPU loop or a CUDA kernel. Pointers point at host or device memory per backend.
#pragma once
#include <cstdint>
#include <type_traits>
#include "lattice.hpp"
#include "structure_factor.hpp"
#include "vec3.hpp"

namespace nanobragg {

template <typename Real>
struct SimParams {
  // Detector raster and region of interest (inclusive bounds, as the C).
  int fpixels, spixels;
  int roi_xmin, roi_xmax, roi_ymin, roi_ymax;
  const std::uint16_t* mask;  // fpixels*spixels, 0 = skip; null for none

  // Detector geometry (metres), after rotations and pivoting.
  Real pixel_size, subpixel_size;
  int oversample;
  Vec3<Real> fdet, sdet, odet, pix0, beam;
  Real distance, close_distance;
  int curved_detector, point_pixel;

  // Sensor layers.
  int thicksteps;
  Real thickstep, thick, mu;
  int oversample_thick, oversample_polar, oversample_omega;

  // Polarization.
  int nopolar;
  Real kahn;
  Vec3<Real> polar_axis;

  // Sources: unit vectors from the sample towards each source (incident = -dir), wavelengths (m).
  int n_sources;
  const Real* source_dir;     // 3 per source
  const Real* source_lambda;  // 1 per source
  const Real* source_weight;  // 1 per source (weight / mean weight); null: every source counts 1 (the C, Q17)
  Real dmin;                  // m; 0 = off

  // Crystal orientation per (phi step, mosaic domain) o = phi*domains + domain: a, b, c in metres,
  // stored component-major (value k of orientation o at [k * n_orient + o], k = a.x a.y a.z b.x
  // ... c.z) so a loop over orientations reads contiguous memory. cells_first is used by the very
  // first evaluation of a render (the stale-phi quirk, Q1), cells by every later one.
  int phisteps, domains;
  const Real* cells;
  const Real* cells_first;

  LatticeParams<Real> lattice;
  FTable<Real> F;
  int interpolate;  // tricubic interpolation requested at the start of the render
  int exact_math;   // 1: libm sin/ceil exactly as the C (bit-identical); 0: the fast lattice path

  // Scale and background.
  Real I_bg, water_size, r_e_sqr, fluence, steps;
};

static_assert(std::is_trivially_copyable<SimParams<double>>::value, "SimParams goes to kernels by value");
static_assert(std::is_trivially_copyable<SimParams<float>>::value, "SimParams goes to kernels by value");

}  // namespace nanobragg
