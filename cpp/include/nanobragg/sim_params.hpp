/// Turns a Prepared run into the SimParams<Real> the kernel reads. The variable-length tables
/// are converted to Real once into KernelTables (host memory; the CUDA backend copies them to the
/// device), one fill function per table so a run object refreshes only the one that changed.
/// The float64 kernel reads the structure-factor table of the Prepared run in place.
#pragma once
#include <cstdint>
#include <type_traits>
#include <vector>

#include "nanobragg/core/params.hpp"
#include "nanobragg/setup.hpp"

namespace nanobragg {

template <typename Real>
struct KernelTables {
  std::vector<Real> source_dir, source_lambda, source_weight, cells, cells_first;
  std::vector<Real> F;  // float32 kernels only: the float64 kernel reads Prepared::F itself
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

template <typename Real>
void fill_source_tables(const Prepared& p, KernelTables<Real>& t) {
  t.source_dir = to_real<Real>(p.source_dir);
  t.source_lambda = to_real<Real>(p.source_lambda);
  t.source_weight = to_real<Real>(p.source_weight);
}

template <typename Real>
void fill_orientation_tables(const Prepared& p, KernelTables<Real>& t) {
  t.cells = component_major<Real>(p.cells);
  t.cells_first = component_major<Real>(p.cells_first);
}

template <typename Real>
void fill_structure_factor_table(const Prepared& p, KernelTables<Real>& t) {
  if constexpr (std::is_same<Real, double>::value) {
    t.F.clear();  // read in place
  } else {
    t.F = to_real<Real>(p.F->values);
  }
}

/// The structure factors the kernel reads: the Prepared table itself in float64, the converted
/// copy in float32, and one zero without a table (the branch-free lookup reads index 0).
template <typename Real>
const Real* structure_factor_values(const Prepared& p, const KernelTables<Real>& t) {
  static const Real zero = Real(0);
  if constexpr (std::is_same<Real, double>::value) {
    return p.F->values.empty() ? &zero : p.F->values.data();
  } else {
    return t.F.empty() ? &zero : t.F.data();
  }
}

/// Number of values structure_factor_values() points at.
inline std::size_t structure_factor_count(const Prepared& p) {
  return p.F->values.empty() ? 1 : p.F->values.size();
}

/// Params pointing into p, tables (filled by the fill_* functions) and mask (may be null).
template <typename Real>
SimParams<Real> sim_params(const Prepared& p, const KernelTables<Real>& tables, const std::uint16_t* mask) {
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
  sp.source_weight = tables.source_weight.empty() ? nullptr : tables.source_weight.data();
  sp.dmin = Real(p.options.dmin);
  sp.phisteps = s.phisteps, sp.domains = s.mosaic_domains;
  sp.cells = tables.cells.data(), sp.cells_first = tables.cells_first.data();
  sp.lattice.shape = CrystalShape(p.options.shape);
  sp.lattice.Na = Real(cr.Na), sp.lattice.Nb = Real(cr.Nb), sp.lattice.Nc = Real(cr.Nc);
  sp.lattice.fudge = Real(p.options.fudge);
  sp.lattice.a_star = to_real<Real>(cr.a_star), sp.lattice.b_star = to_real<Real>(cr.b_star);
  sp.lattice.c_star = to_real<Real>(cr.c_star);
  const FTableData& t = *p.F;
  FTable<Real>& F = sp.F;
  F.values = structure_factor_values(p, tables);
  F.h_min = t.h_min, F.h_max = t.h_max, F.k_min = t.k_min, F.k_max = t.k_max;
  F.l_min = t.l_min, F.l_max = t.l_max;
  F.h_range = t.h_max - t.h_min + 1, F.k_range = t.k_max - t.k_min + 1, F.l_range = t.l_max - t.l_min + 1;
  F.hkls = t.hkls;
  F.default_F = Real(p.default_F);
  sp.interpolate = cr.interpolate;
  sp.exact_math = p.options.exact_math;
  sp.I_bg = Real(p.I_bg), sp.water_size = Real(p.options.water_size);
  sp.r_e_sqr = Real(7.94079248018965e-30), sp.fluence = Real(p.fluence), sp.steps = Real(s.steps);
  return sp;
}

/// Fills every table of tables from p and returns params pointing into them (tests and one-off
/// evaluations; the run object, simulator.hpp, keeps its tables between renders instead).
template <typename Real>
SimParams<Real> make_sim_params(const Prepared& p, KernelTables<Real>& tables, const std::uint16_t* mask) {
  fill_source_tables(p, tables);
  fill_orientation_tables(p, tables);
  fill_structure_factor_table(p, tables);
  return sim_params(p, tables, mask);
}

}  // namespace nanobragg
