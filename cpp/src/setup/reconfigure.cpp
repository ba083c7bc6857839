/// reconfigure_crystal() and set_crystal_orientation(): the crystal-dependent steps of prepare()
/// (prepare.cpp) re-run on an existing Prepared, in the same order, so the results are identical.
#include "nanobragg/reconfigure.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace nanobragg {

void reconfigure_crystal(Prepared& p, const Options& opt_in) {
  Options opt = opt_in;
  clip_sample_to_beam(opt, nullptr);
  // Warnings are regenerated in prepare()'s order: detector, sampling, crystal.
  std::vector<std::string> warnings;
  (void)place_detector(opt, warnings);
  Sampling sampling = resolve_sampling(opt, warnings);
  sampling.divsteps = p.sampling.divsteps;  // decided by build_sources(), which is not re-run

  const int interpolate = auto_interpolate(opt);
  RandomState rng;
  Crystal crystal = build_crystal(opt, rng, warnings);
  crystal.interpolate = p.F->hkls == 0 ? 0 : interpolate;

  Options old_options = std::move(p.options);
  Sampling old_sampling = p.sampling;
  Crystal old_crystal = p.crystal;
  const SetupRecord old_record = p.record;
  try {
    p.options = opt;
    p.default_F = opt.default_F;
    p.sampling = sampling;
    p.crystal = crystal;
    p.record.auto_interpolation = opt.interpolate > 1 ? interpolate : -1;
    std::vector<double> umats, cells, cells_first;
    umats.swap(p.mosaic_umats), cells.swap(p.cells), cells_first.swap(p.cells_first);
    try {
      build_mosaic_domains(p, rng);
      resolve_oversample(p);
      build_orientation_table(p);
    } catch (...) {
      umats.swap(p.mosaic_umats), cells.swap(p.cells), cells_first.swap(p.cells_first);
      throw;
    }
  } catch (...) {
    p.options = std::move(old_options);
    p.sampling = old_sampling;
    p.crystal = old_crystal;
    p.record = old_record;
    p.default_F = p.options.default_F;
    throw;
  }
  p.rng = rng;
  p.warnings = std::move(warnings);
}

void set_crystal_orientation(Prepared& p, const Vec3d& a_m, const Vec3d& b_m, const Vec3d& c_m) {
  // Angstrom, as build_crystal() works.
  const Vec3d a = scale(a_m, 1e10), b = scale(b_m, 1e10), c = scale(c_m, 1e10);
  const double V_cell = dot(a, cross(b, c));
  if (!(std::fabs(V_cell) > 0.0) || !std::isfinite(V_cell)) {
    throw std::invalid_argument("orientation: the cell axes a, b, c are degenerate (zero volume)");
  }
  const double V_star = 1.0 / V_cell;
  const Vec3d a_star = scale(cross(b, c), V_star);
  const Vec3d b_star = scale(cross(c, a), V_star);
  const Vec3d c_star = scale(cross(a, b), V_star);

  Crystal cr = p.crystal;
  set_cell_vectors(cr, a, b, c, a_star, b_star, c_star, V_cell, V_star, p.options);
  cr.a = a_m, cr.b = b_m, cr.c = c_m;  // exactly as given (not rescaled from Angstrom)

  const Crystal old_crystal = p.crystal;
  const Sampling old_sampling = p.sampling;
  const SetupRecord old_record = p.record;
  p.crystal = cr;
  try {
    resolve_oversample(p);
    build_orientation_table(p);
  } catch (...) {
    p.crystal = old_crystal;
    p.sampling = old_sampling;
    p.record = old_record;
    throw;
  }
}

}  // namespace nanobragg
