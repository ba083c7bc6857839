/// Turns a Prepared run into the SimParams<Real> the kernel reads, with the variable-length
/// tables converted to Real and kept alive in KernelTables (host memory; the CUDA backend copies
/// them to the device).
#pragma once
#include <cstdint>
#include <vector>

#include "nanobragg/core/params.hpp"
#include "nanobragg/setup.hpp"

namespace nanobragg {

template <typename Real>
struct KernelTables {
  std::vector<Real> source_dir, source_lambda, cells, cells_first, F;
};

template <typename Real>
std::vector<Real> to_real(const std::vector<double>& v) {
  return std::vector<Real>(v.begin(), v.end());
}

/// Orientation table from 9 values per orientation to component-major (see SimParams::cells).
template <typename Real>
std::vector<Real> component_major(const std::vector<double>& aos) {
  const std::size_t n = aos.size() / 9;
  std::vector<Real> out(aos.size());
  for (std::size_t o = 0; o < n; ++o)
    for (std::size_t k = 0; k < 9; ++k) out[k * n + o] = Real(aos[9 * o + k]);
  return out;
}

template <typename Real>
Vec3<Real> to_real(const Vec3d& v) {
  return {Real(v.x), Real(v.y), Real(v.z)};
}

/// Fills tables from p and returns params pointing into them (and at mask, which may be null).
template <typename Real>
SimParams<Real> make_sim_params(const Prepared& p, KernelTables<Real>& tables, const std::uint16_t* mask) {
  tables.source_dir = to_real<Real>(p.source_dir);
  tables.source_lambda = to_real<Real>(p.source_lambda);
  tables.cells = component_major<Real>(p.cells);
  tables.cells_first = component_major<Real>(p.cells_first);
  tables.F = to_real<Real>(p.F.values);
  if (tables.F.empty()) tables.F.assign(1, Real(0));  // the branch-free lookup reads index 0
  const DetectorGeometry& g = p.det;
  const Sampling& s = p.sampling;
  const Crystal& cr = p.crystal;
  SimParams<Real> sp{};
  sp.fpixels = g.fpixels, sp.spixels = g.spixels;
  sp.roi_xmin = g.roi_xmin, sp.roi_xmax = g.roi_xmax, sp.roi_ymin = g.roi_ymin, sp.roi_ymax = g.roi_ymax;
  sp.mask = mask;
  sp.pixel_size = Real(g.pixel_size);
  sp.oversample = s.oversample;
  sp.subpixel_size = Real(g.pixel_size / s.oversample);
  sp.fdet = to_real<Real>(g.fdet), sp.sdet = to_real<Real>(g.sdet), sp.odet = to_real<Real>(g.odet);
  sp.pix0 = to_real<Real>(g.pix0), sp.beam = to_real<Real>(g.beam);
  sp.distance = Real(g.distance), sp.close_distance = Real(g.close_distance);
  sp.curved_detector = p.options.curved_detector, sp.point_pixel = p.options.point_pixel;
  sp.thicksteps = s.thicksteps, sp.thickstep = Real(s.thickstep), sp.thick = Real(s.thick), sp.mu = Real(s.mu);
  sp.oversample_thick = p.options.oversample_thick;
  sp.oversample_polar = p.options.oversample_polar;
  sp.oversample_omega = p.options.oversample_omega;
  sp.nopolar = p.options.nopolar, sp.kahn = Real(p.options.polarization), sp.polar_axis = to_real<Real>(g.polar);
  sp.n_sources = int(p.source_lambda.size());
  sp.source_dir = tables.source_dir.data(), sp.source_lambda = tables.source_lambda.data();
  sp.dmin = Real(p.options.dmin);
  sp.phisteps = s.phisteps, sp.domains = s.mosaic_domains;
  sp.cells = tables.cells.data(), sp.cells_first = tables.cells_first.data();
  sp.lattice.shape = CrystalShape(p.options.shape);
  sp.lattice.Na = Real(cr.Na), sp.lattice.Nb = Real(cr.Nb), sp.lattice.Nc = Real(cr.Nc);
  sp.lattice.fudge = Real(p.options.fudge);
  sp.lattice.a_star = to_real<Real>(cr.a_star), sp.lattice.b_star = to_real<Real>(cr.b_star);
  sp.lattice.c_star = to_real<Real>(cr.c_star);
  FTable<Real>& F = sp.F;
  F.values = tables.F.data();
  F.h_min = p.F.h_min, F.h_max = p.F.h_max, F.k_min = p.F.k_min, F.k_max = p.F.k_max;
  F.l_min = p.F.l_min, F.l_max = p.F.l_max;
  F.h_range = p.F.h_max - p.F.h_min + 1, F.k_range = p.F.k_max - p.F.k_min + 1, F.l_range = p.F.l_max - p.F.l_min + 1;
  F.hkls = p.F.hkls;
  F.default_F = Real(p.default_F);
  sp.interpolate = cr.interpolate;
  sp.exact_math = p.options.exact_math;
  sp.I_bg = Real(p.I_bg), sp.water_size = Real(p.options.water_size);
  sp.r_e_sqr = Real(7.94079248018965e-30), sp.fluence = Real(p.fluence), sp.steps = Real(s.steps);
  return sp;
}

}  // namespace nanobragg
