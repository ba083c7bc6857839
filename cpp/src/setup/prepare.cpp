/// prepare(): runs the set-up steps in the C's order, then builds the sources, the mosaic domains
/// and the per-(phi, domain) orientation table that the pixel kernel reads.
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "nanobragg/plan.hpp"
#include "nanobragg/setup.hpp"

namespace nanobragg {

namespace {
constexpr double kSourceDistance = 10.0;  // m; only the direction matters
constexpr double kReSqr = 7.94079248018965e-30;
constexpr double kAvogadro = 6.02214179e23;
constexpr double kWaterF = 2.57, kWaterMW = 18.0;
/// Each weight over the mean weight (exactly 1 for all when they are equal, so the image is the
/// unweighted one bit for bit); throws on a negative or non-finite weight or a zero sum.
std::vector<double> kernel_weights(const std::vector<double>& raw) {
  double sum = 0;
  bool equal = true;
  for (double w : raw) {
    if (!(w >= 0) || !std::isfinite(w)) throw std::invalid_argument("source weights must be finite and not negative");
    sum += w;
    equal = equal && w == raw.front();
  }
  if (!(sum > 0) || !std::isfinite(sum)) throw std::invalid_argument("source weights: their sum must be positive and finite");
  if (equal) return std::vector<double>(raw.size(), 1.0);
  std::vector<double> out;
  const double mean = sum / double(raw.size());
  for (double w : raw) out.push_back(w / mean);
  return out;
}

void check_spectrum(const SourceList& list, std::size_t n_file) {
  const auto& lam = list.spectrum_lambda;
  if (lam.empty()) return;
  if (n_file > 0) throw std::invalid_argument("a spectrum and a -sourcefile both give the wavelengths: use one");
  if (list.spectrum_weight.size() != lam.size()) throw std::invalid_argument("the spectrum needs one weight per wavelength");
  for (std::size_t i = 0; i < lam.size(); ++i) {
    if (!(lam[i] > 0) || !std::isfinite(lam[i])) throw std::invalid_argument("spectrum wavelengths must be positive");
    if (!(list.spectrum_weight[i] > 0) || !std::isfinite(list.spectrum_weight[i]))
      throw std::invalid_argument("spectrum weights must be positive");
  }
}
}  // namespace

void build_sources(Prepared& p, const SourceList& list) {
  const Sampling& s = p.sampling;
  const Vec3d beam = p.det.beam;
  const double lambda0 = p.options.lambda0;
  p.source_dir.clear(), p.source_lambda.clear(), p.source_raw_xyz.clear(), p.source_raw_weight.clear();
  p.record.divergence.clear(), p.record.dispersion_lambdas.clear();
  p.record.spectrum_mean_lambda = 0;
  const std::size_t n_file = list.lambda.size();
  check_spectrum(list, n_file);
  if (n_file > 0) {
    p.sampling.divsteps = -1;  // as printed by the C: the divergence grid is never counted
    for (std::size_t i = 0; i < n_file; ++i) {
      double x = list.xyz[3 * i], y = list.xyz[3 * i + 1], z = list.xyz[3 * i + 2];
      if (std::isnan(x)) x = -kSourceDistance * beam.x;
      if (std::isnan(y)) y = -kSourceDistance * beam.y;
      if (std::isnan(z)) z = -kSourceDistance * beam.z;
      double lam = list.lambda[i];
      if (std::isnan(lam)) lam = lambda0;
      p.source_raw_xyz.insert(p.source_raw_xyz.end(), {x, y, z});
      // Weights are read and printed but never used by the C (Q17); a missing one reads as 1.
      const double wt = i < list.weight.size() ? list.weight[i] : 1.0;
      p.source_raw_weight.push_back(std::isnan(wt) ? 1.0 : wt);
      p.source_lambda.push_back(lam);
    }
  } else {
    // Divergence grid, trimmed to an ellipse unless -square_div (L2348-L2426).
    int divsteps = 0;
    auto kept = [&](double hdiv, double vdiv) {
      double test = (hdiv * hdiv - s.hdivstep * s.hdivstep / 4.0 * (1 - s.hdivsteps % 2)) / s.hdivrange / s.hdivrange;
      test += (vdiv * vdiv - s.vdivstep * s.vdivstep / 4.0 * (1 - s.vdivsteps % 2)) / s.vdivrange / s.vdivrange;
      return !(p.options.round_div && test * 4.0 > 1.1);
    };
    for (int i = 0; i < s.hdivsteps; ++i)
      for (int j = 0; j < s.vdivsteps; ++j)
        if (kept(s.hdivstep * i - s.hdivrange / 2.0, s.vdivstep * j - s.vdivrange / 2.0)) ++divsteps;
    p.sampling.divsteps = divsteps;
    // The wavelengths of every direction: the -dispersion steps, or the spectrum's lines.
    std::vector<double> lambdas, weights;
    if (list.spectrum_lambda.empty()) {
      for (int k = 0; k < s.dispsteps; ++k) lambdas.push_back(lambda0 * (1.0 + s.dispstep * k - s.dispersion / 2.0));
      weights.assign(lambdas.size(), 1.0 / (divsteps * s.dispsteps));
    } else {
      lambdas = list.spectrum_lambda, weights = list.spectrum_weight;
      p.sampling.dispsteps = int(lambdas.size());
      double sum_w = 0, sum_wl = 0;
      for (std::size_t k = 0; k < lambdas.size(); ++k) sum_w += weights[k], sum_wl += weights[k] * lambdas[k];
      p.record.spectrum_mean_lambda = sum_wl / sum_w;
    }
    p.record.dispersion_lambdas = lambdas;
    for (int i = 0; i < s.hdivsteps; ++i) {
      for (int j = 0; j < s.vdivsteps; ++j) {
        const double hdiv = s.hdivstep * i - s.hdivrange / 2.0;
        const double vdiv = s.vdivstep * j - s.vdivrange / 2.0;
        if (!kept(hdiv, vdiv)) continue;
        p.record.divergence.insert(p.record.divergence.end(), {hdiv, vdiv});
        const Vec3d v = {-kSourceDistance * beam.x, -kSourceDistance * beam.y, -kSourceDistance * beam.z};
        const Vec3d dir = rotate_axis(rotate_axis(v, p.det.polar, vdiv), p.det.vert, hdiv);
        for (std::size_t k = 0; k < lambdas.size(); ++k) {
          p.source_raw_xyz.insert(p.source_raw_xyz.end(), {dir.x, dir.y, dir.z});
          p.source_raw_weight.push_back(weights[k]);
          p.source_lambda.push_back(lambdas[k]);
        }
      }
    }
  }
  if (p.source_lambda.empty()) throw std::invalid_argument("no sources: the divergence and dispersion settings leave none");
  p.source_weight.clear();
  if (p.options.use_source_weights || !list.spectrum_lambda.empty()) p.source_weight = kernel_weights(p.source_raw_weight);
  for (std::size_t i = 0; i < p.source_lambda.size(); ++i) {
    Vec3d v = {p.source_raw_xyz[3 * i], p.source_raw_xyz[3 * i + 1], p.source_raw_xyz[3 * i + 2]};
    unitize(v);
    p.source_dir.insert(p.source_dir.end(), {v.x, v.y, v.z});
  }
}

void build_mosaic_domains(Prepared& p, RandomState& rng) {
  const int n = p.sampling.mosaic_domains;
  p.mosaic_umats.assign(9 * std::size_t(n), 0.0);
  long seed = p.options.mosaic_seed;
  for (int m = 0; m < n; ++m) {
    // Same as nanoBragg.c: domain 0 consumes its draws, then is forced to the identity (Q16).
    mosaic_rotation_umat(float(p.sampling.mosaic_spread), &p.mosaic_umats[9 * m], &seed, rng);
    if (m == 0) {
      const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
      for (int i = 0; i < 9; ++i) p.mosaic_umats[i] = identity[i];
    }
  }
}

void build_orientation_table(Prepared& p) {
  const Sampling& s = p.sampling;
  const Crystal& cr = p.crystal;
  const Vec3d spindle = p.det.spindle;
  const Vec3d a0 = cr.a, b0 = cr.b, c0 = cr.c;
  struct Triple {
    Vec3d a, b, c;
  };
  auto phi_of = [&](int j) { return s.phi0 + s.phistep * j; };
  // A phi step at exactly 0 keeps the previous orientation (Q1): the state after one full sweep
  // is the starting state of every sweep but the render's first.
  auto sweep = [&](Triple state, std::vector<double>& out) {
    out.assign(9 * std::size_t(s.phisteps) * s.mosaic_domains, 0.0);
    for (int j = 0; j < s.phisteps; ++j) {
      const double phi = phi_of(j);
      if (phi != 0.0 || p.options.corrected) {
        state = {rotate_axis(a0, spindle, phi), rotate_axis(b0, spindle, phi), rotate_axis(c0, spindle, phi)};
      }
      for (int m = 0; m < s.mosaic_domains; ++m) {
        Triple t = state;
        if (s.mosaic_spread > 0.0) {
          const double* u = &p.mosaic_umats[9 * m];
          t = {rotate_umat(state.a, u), rotate_umat(state.b, u), rotate_umat(state.c, u)};
        }
        double* o = &out[9 * (std::size_t(j) * s.mosaic_domains + m)];
        const Vec3d v[3] = {t.a, t.b, t.c};
        for (int r = 0; r < 3; ++r) o[3 * r] = v[r].x, o[3 * r + 1] = v[r].y, o[3 * r + 2] = v[r].z;
      }
    }
    return state;
  };
  const Triple after_first = sweep(Triple{a0, b0, c0}, p.cells_first);
  sweep(after_first, p.cells);
}

void clip_sample_to_beam(Options& opt, std::vector<std::string>* warnings) {
  char line[160];
  if (opt.beamsize >= 0) {
    if (opt.beamsize < opt.sample_y) {
      std::snprintf(line, sizeof line, "WARNING: clipping sample (%g m high) with beam (%g m)", opt.sample_y, opt.beamsize);
      if (warnings) warnings->emplace_back(line);
      opt.sample_y = opt.beamsize;
    }
    if (opt.beamsize < opt.sample_z) {
      std::snprintf(line, sizeof line, "WARNING: clipping sample (%g m wide) with beam (%g m)", opt.sample_z, opt.beamsize);
      if (warnings) warnings->emplace_back(line);
      opt.sample_z = opt.beamsize;
    }
  }
}

int auto_interpolate(const Options& opt) {
  // Uses N before crystal sizes are converted to cell counts (Q9).
  if (opt.interpolate > 1) return (opt.Na <= 2 || opt.Nb <= 2 || opt.Nc <= 2) ? 1 : 0;
  return opt.interpolate;
}

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
  p.record.auto_oversample = p.options.oversample <= 0;
  p.record.xtal_max = xtal_max;
  p.record.reciprocal_pixel_size = reciprocal_pixel_size;
  p.sampling.oversample = oversample;
  const long n_sources = long(p.source_lambda.size());
  p.sampling.steps = n_sources * p.sampling.mosaic_domains * p.sampling.phisteps * long(oversample) * oversample;
}

Prepared plan(const Options& opt_in) {
  Prepared p;
  p.options = opt_in;
  Options& opt = p.options;

  // Fluence from flux; the beam clips the sample's y and z (L1130-L1148).
  p.fluence = opt.fluence;
  if (opt.flux != 0.0 && opt.exposure > 0.0 && opt.beamsize >= 0) {
    p.fluence = opt.flux * opt.exposure / opt.beamsize / opt.beamsize;
  }
  clip_sample_to_beam(opt, &p.warnings);
  p.flux = opt.flux;
  if (opt.exposure > 0.0) p.flux = p.fluence / opt.exposure * opt.beamsize * opt.beamsize;

  p.det = place_detector(opt, p.warnings);
  if (p.det.fpixels <= 0 || p.det.spixels <= 0) throw std::invalid_argument("the detector has no pixels");
  p.sampling = resolve_sampling(opt, p.warnings);

  const int interpolate = auto_interpolate(opt);
  p.record.auto_interpolation = opt.interpolate > 1 ? interpolate : -1;
  p.crystal = build_crystal(opt, p.rng, p.warnings);
  resolve_oversample(p);  // no sources yet: steps stays 0 until prepare() builds them
  const double w = opt.water_size;
  p.I_bg = kWaterF * kWaterF * kReSqr * p.fluence * w * w * w * 1e6 * kAvogadro / kWaterMW;
  return p;
}

Prepared prepare(const Options& opt_in, std::shared_ptr<const FTableData> F, const SourceList& sources) {
  Prepared p = plan(opt_in);
  p.F = F ? std::move(F) : std::make_shared<const FTableData>();
  p.default_F = p.options.default_F;
  p.crystal.interpolate = p.F->hkls == 0 ? 0 : auto_interpolate(p.options);  // nothing to interpolate without a table

  build_sources(p, sources);
  build_mosaic_domains(p, p.rng);
  resolve_oversample(p);
  build_orientation_table(p);
  return p;
}

}  // namespace nanobragg
