/// The crystal: direct and reciprocal cell vectors from -cell or -mat, misset (given or random),
/// and the crystal size in unit cells (nanoBragg.c L1792-L2101).
#include <cfloat>
#include <cmath>
#include <cstdio>

#include "nanobragg/setup.hpp"

namespace nanobragg {

namespace {
constexpr double kRTD = 180.0 * M_1_PI;

// Rescales v to the given length (a zero vector is treated as length 1). Ports vector_rescale().
Vec3d rescaled(const Vec3d& v, double new_magnitude) {
  double oldmag = magnitude(v);
  if (oldmag <= 0.0) oldmag = 1.0;
  return {new_magnitude / oldmag * v.x, new_magnitude / oldmag * v.y, new_magnitude / oldmag * v.z};
}

double clamp_unit(double x) { return x > 1.0 ? 1.0 : (x < -1.0 ? -1.0 : x); }
double clamp_cos(double x) { return x * x > 1.0 ? 1.0 : x; }
}  // namespace

void set_cell_vectors(Crystal& cr, const Vec3d& a, const Vec3d& b, const Vec3d& c, const Vec3d& a_star,
                      const Vec3d& b_star, const Vec3d& c_star, double V_cell, double V_star, const Options& opt) {
  // Cell constants for printing (clamped as in the C).
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

  cr.a = scale(a, 1e-10);
  cr.b = scale(b, 1e-10);
  cr.c = scale(c, 1e-10);
  cr.a_star = a_star, cr.b_star = b_star, cr.c_star = c_star;
  cr.V_cell = V_cell;

  // Size in unit cells (L2064-L2070): sizes win over N; N <= 1 becomes 1 (Q18).
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
}

Crystal build_crystal(const Options& opt, RandomState& rng, std::vector<std::string>& warnings) {
  Crystal cr;
  double a0 = opt.cell[0], b0 = opt.cell[1], c0 = opt.cell[2];
  double alpha = opt.cell[3], beta = opt.cell[4], gamma = opt.cell[5];
  Vec3d a_star{0, 0, 0}, b_star{0, 0, 0}, c_star{0, 0, 0};
  double V_cell = 0, V_star = 0;

  if (opt.user_cell) {
    if (b0 <= 0.0) b0 = a0;
    if (c0 <= 0.0) c0 = a0;
    if (alpha <= 0.0) alpha = M_PI / 2;
    if (beta <= 0.0) beta = M_PI / 2;
    if (gamma <= 0.0) gamma = M_PI / 2;
    const double aavg = (alpha + beta + gamma) / 2;
    double skew = std::sin(aavg) * std::sin(aavg - alpha) * std::sin(aavg - beta) * std::sin(aavg - gamma);
    if (skew < 0.0) skew = -skew;
    V_cell = 2.0 * a0 * b0 * c0 * std::sqrt(skew);
    if (V_cell <= 0.0) {
      char line[96];
      std::snprintf(line, sizeof line, "WARNING: impossible unit cell volume: %g", V_cell);
      warnings.emplace_back(line);
      V_cell = DBL_MIN;
    }
    V_star = 1.0 / V_cell;
    double as = b0 * c0 * std::sin(alpha) * V_star;
    double bs = c0 * a0 * std::sin(beta) * V_star;
    double cs = a0 * b0 * std::sin(gamma) * V_star;
    if (as <= 0.0 || bs <= 0.0 || cs <= 0.0) {
      warnings.emplace_back("WARNING: impossible reciprocal cell lengths");
      as = std::fabs(as), bs = std::fabs(bs), cs = std::fabs(cs);
      if (as <= 0.0) as = DBL_MIN;
      if (bs <= 0.0) bs = DBL_MIN;
      if (cs <= 0.0) cs = DBL_MIN;
    }
    double sin_gamma_star = c0 * V_star / as / bs;
    double cos_alpha_star = (std::cos(beta) * std::cos(gamma) - std::cos(alpha)) / (std::sin(beta) * std::sin(gamma));
    double cos_beta_star = (std::cos(gamma) * std::cos(alpha) - std::cos(beta)) / (std::sin(gamma) * std::sin(alpha));
    double cos_gamma_star = (std::cos(alpha) * std::cos(beta) - std::cos(gamma)) / (std::sin(alpha) * std::sin(beta));
    sin_gamma_star = clamp_unit(sin_gamma_star);
    cos_alpha_star = clamp_cos(cos_alpha_star);
    cos_beta_star = clamp_cos(cos_beta_star);
    cos_gamma_star = clamp_cos(cos_gamma_star);
    a_star = {as, 0.0, 0.0};
    b_star = {bs * cos_gamma_star, bs * sin_gamma_star, 0.0};
    // Same as nanoBragg.c: c*_z = c* V/(a b c sin gamma*), exact only when V = abc sin(alpha)
    // sin(beta) sin(gamma), i.e. for at most one non-90 degree angle (Q31). The corrected value is
    // V*/(a* b* sin gamma*), which makes the cell exactly dual.
    const double c_star_z = opt.corrected ? V_star / (as * bs * sin_gamma_star)
                                          : cs * V_cell / (a0 * b0 * c0 * sin_gamma_star);
    c_star = {cs * cos_beta_star, cs * (cos_alpha_star - cos_beta_star * cos_gamma_star) / sin_gamma_star, c_star_z};
  }

  if (opt.has_matrix) {
    // The MOSFLM A matrix includes the wavelength: divide it out (Angstrom^-1 afterwards).
    const double* m = opt.matrix;
    const double s = 1e-10 / opt.lambda0;
    a_star = {s * m[0], s * m[3], s * m[6]};
    b_star = {s * m[1], s * m[4], s * m[7]};
    c_star = {s * m[2], s * m[5], s * m[8]};
  }

  double misset[3] = {opt.misset[0], opt.misset[1], opt.misset[2]};
  bool apply_misset = opt.misset_mode != 0;
  if (opt.misset_mode < 0) {
    // Same as nanoBragg.c: a spherical cap of "90" passed as radians gives a random orientation.
    double umat[9];
    long seed = opt.misset_seed;
    mosaic_rotation_umat(90.0f, umat, &seed, rng);
    umat2misset(umat, misset);
    cr.random_misset = true;
    for (int i = 0; i < 3; ++i) cr.misset_deg[i] = misset[i] * kRTD;
  }
  if (apply_misset) {
    a_star = rotate_xyz(a_star, misset[0], misset[1], misset[2]);
    b_star = rotate_xyz(b_star, misset[0], misset[1], misset[2]);
    c_star = rotate_xyz(c_star, misset[0], misset[1], misset[2]);
  }

  Vec3d a_star_cross_b_star = cross(a_star, b_star);
  Vec3d b_star_cross_c_star = cross(b_star, c_star);
  Vec3d c_star_cross_a_star = cross(c_star, a_star);
  V_star = dot(a_star, b_star_cross_c_star);
  if (opt.user_cell) {
    b_star_cross_c_star = rescaled(b_star_cross_c_star, a0 / V_cell);
    c_star_cross_a_star = rescaled(c_star_cross_a_star, b0 / V_cell);
    a_star_cross_b_star = rescaled(a_star_cross_b_star, c0 / V_cell);
    V_star = 1.0 / V_cell;
  }
  V_cell = 1.0 / V_star;
  const Vec3d a = scale(b_star_cross_c_star, V_cell);
  const Vec3d b = scale(c_star_cross_a_star, V_cell);
  const Vec3d c = scale(a_star_cross_b_star, V_cell);
  a_star = scale(cross(b, c), V_star);
  b_star = scale(cross(c, a), V_star);
  c_star = scale(cross(a, b), V_star);

  set_cell_vectors(cr, a, b, c, a_star, b_star, c_star, V_cell, V_star, opt);
  return cr;
}

}  // namespace nanobragg
