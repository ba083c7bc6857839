/// reconfigure_crystal() and set_crystal_orientation(): the crystal-dependent steps of prepare()
/// (prepare.cpp) re-run on an existing Prepared, in the same order, so the results are identical.
#include "nanobragg/reconfigure.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace nanobragg {

namespace {
constexpr double kRTD = 180.0 * M_1_PI;

double clamp_unit(double x) { return x > 1.0 ? 1.0 : (x < -1.0 ? -1.0 : x); }
double clamp_cos(double x) { return x * x > 1.0 ? 1.0 : x; }

// Same as prepare(): the automatic oversampling follows the largest crystal dimension.
void resolve_oversample(Prepared& p) {
  const Crystal& cr = p.crystal;
  double xtal_max = cr.xtal_size[0];
  if (xtal_max < cr.xtal_size[1]) xtal_max = cr.xtal_size[1];
  if (xtal_max < cr.xtal_size[2]) xtal_max = cr.xtal_size[2];
  const double reciprocal_pixel_size = p.options.lambda0 * p.det.distance / p.det.pixel_size;
  int recommended = int(std::ceil(3.0 * xtal_max / reciprocal_pixel_size));
  if (recommended <= 0) recommended = 1;
  int oversample = p.options.oversample;
  if (oversample <= 0) oversample = recommended;
  p.sampling.recommended_oversample = recommended;
  p.sampling.oversample = oversample;
  const long n_sources = long(p.source_lambda.size());
  p.sampling.steps = n_sources * p.sampling.mosaic_domains * p.sampling.phisteps * long(oversample) * oversample;
}
}  // namespace

void reconfigure_crystal(Prepared& p, const Options& opt_in) {
  Options opt = opt_in;
  // Same as prepare(): the beam clips the sample's y and z.
  if (opt.beamsize >= 0) {
    if (opt.beamsize < opt.sample_y) opt.sample_y = opt.beamsize;
    if (opt.beamsize < opt.sample_z) opt.sample_z = opt.beamsize;
  }
  // Warnings are regenerated in prepare()'s order: detector, sampling, crystal.
  std::vector<std::string> warnings;
  (void)place_detector(opt, warnings);
  Sampling sampling = resolve_sampling(opt, warnings);
  sampling.divsteps = p.sampling.divsteps;  // decided by build_sources(), which is not re-run

  int interpolate = opt.interpolate;
  if (interpolate > 1) interpolate = (opt.Na <= 2 || opt.Nb <= 2 || opt.Nc <= 2) ? 1 : 0;
  RandomState rng;
  Crystal crystal = build_crystal(opt, rng, warnings);
  if (p.F.hkls == 0) interpolate = 0;
  crystal.interpolate = interpolate;

  Options old_options = std::move(p.options);
  Sampling old_sampling = p.sampling;
  Crystal old_crystal = p.crystal;
  try {
    p.options = opt;
    p.default_F = opt.default_F;
    p.sampling = sampling;
    p.crystal = crystal;
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
  const double la = magnitude(a), lb = magnitude(b), lc = magnitude(c);
  const double las = magnitude(a_star), lbs = magnitude(b_star), lcs = magnitude(c_star);
  auto angle = [](double s, double c) { return std::atan2(clamp_unit(s), clamp_cos(c)) * kRTD; };
  cr.cell[0] = la, cr.cell[1] = lb, cr.cell[2] = lc;
  cr.cell[3] = angle(las * V_cell / lb / lc, dot(b, c) / lb / lc);
  cr.cell[4] = angle(lbs * V_cell / la / lc, dot(a, c) / la / lc);
  cr.cell[5] = angle(lcs * V_cell / la / lb, dot(a, b) / la / lb);
  cr.recip_cell[0] = las, cr.recip_cell[1] = lbs, cr.recip_cell[2] = lcs;
  cr.recip_cell[3] = angle(la * V_star / lbs / lcs, dot(b_star, c_star) / lbs / lcs);
  cr.recip_cell[4] = angle(lb * V_star / las / lcs, dot(a_star, c_star) / las / lcs);
  cr.recip_cell[5] = angle(lc * V_star / las / lbs, dot(a_star, b_star) / las / lbs);
  cr.a = a_m, cr.b = b_m, cr.c = c_m;
  cr.a_star = a_star, cr.b_star = b_star, cr.c_star = c_star;
  cr.V_cell = V_cell;

  // Size in unit cells, as build_crystal() (L2064-L2070): sizes win over N; N <= 1 becomes 1.
  const Options& opt = p.options;
  double Na = opt.Na, Nb = opt.Nb, Nc = opt.Nc;
  if (opt.sample_x > 0) Na = std::ceil(opt.sample_x / magnitude(cr.a));
  if (opt.sample_y > 0) Nb = std::ceil(opt.sample_y / magnitude(cr.b));
  if (opt.sample_z > 0) Nc = std::ceil(opt.sample_z / magnitude(cr.c));
  if (Na <= 1.0) Na = 1.0;
  if (Nb <= 1.0) Nb = 1.0;
  if (Nc <= 1.0) Nc = 1.0;
  cr.Na = Na, cr.Nb = Nb, cr.Nc = Nc;
  cr.xtal_size[0] = magnitude(cr.a) * Na;
  cr.xtal_size[1] = magnitude(cr.b) * Nb;
  cr.xtal_size[2] = magnitude(cr.c) * Nc;

  const Crystal old_crystal = p.crystal;
  const Sampling old_sampling = p.sampling;
  p.crystal = cr;
  try {
    resolve_oversample(p);
    build_orientation_table(p);
  } catch (...) {
    p.crystal = old_crystal;
    p.sampling = old_sampling;
    throw;
  }
}

}  // namespace nanobragg
