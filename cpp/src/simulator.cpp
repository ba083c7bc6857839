/// Simulator: the run object (simulator.hpp). Updates compare the new options with the current
/// ones field by field and re-run the smallest part of the set-up that covers the change.
#include "nanobragg/simulator.hpp"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "nanobragg/reconfigure.hpp"

namespace nanobragg {

namespace {
template <typename T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;  // NaN equals NaN; fields hold no padding
}

bool same_axes(const std::optional<CellAxes>& a, const std::optional<CellAxes>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  for (int i = 0; i < 3; ++i) {
    if (!same_bits((*a)[i].x, (*b)[i].x) || !same_bits((*a)[i].y, (*b)[i].y) || !same_bits((*a)[i].z, (*b)[i].z)) {
      return false;
    }
  }
  return true;
}

Prepared prepare_with_axes(const Options& opt, std::shared_ptr<const FTableData> F, const SourceList& sources,
                           const std::optional<CellAxes>& axes) {
  Prepared p = prepare(opt, std::move(F), sources);
  if (axes) set_crystal_orientation(p, (*axes)[0], (*axes)[1], (*axes)[2]);
  return p;
}
}  // namespace

bool same_options(const Options& a, const Options& b) {
#define NANOBRAGG_FIELD(reach, type, name, ...) \
  if (!same_bits(a.name, b.name)) return false;
#define NANOBRAGG_ARRAY(reach, type, name, ...) \
  if (!same_bits(a.name, b.name)) return false;
#include "nanobragg/option_fields.def"
  return true;
}

bool differ_only_in_crystal(const Options& a, const Options& b) {
#define NANOBRAGG_FIELD(reach, type, name, ...) \
  if (Reach::reach == Reach::Setup && !same_bits(a.name, b.name)) return false;
#define NANOBRAGG_ARRAY(reach, type, name, ...) \
  if (Reach::reach == Reach::Setup && !same_bits(a.name, b.name)) return false;
#include "nanobragg/option_fields.def"
  return true;
}

Simulator::Simulator(const Options& opt, std::shared_ptr<const FTableData> F, SourceList sources,
                     std::vector<std::uint16_t> mask, const std::optional<CellAxes>& axes)
    : given_(opt), axes_(axes), sources_(std::move(sources)) {
  p_ = prepare_with_axes(opt, std::move(F), sources_, axes);
  set_mask(std::move(mask));
}

void Simulator::set_mask(std::vector<std::uint16_t> mask) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t n = std::size_t(p_.det.fpixels) * p_.det.spixels;
  if (!mask.empty() && mask.size() != n) {
    throw std::invalid_argument("mask has " + std::to_string(mask.size()) + " pixels; the detector has " +
                                std::to_string(n));
  }
  mask_ = std::move(mask);
  ++mask_revision_;
}

void Simulator::update(const Options& opt, const std::optional<CellAxes>& axes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool axes_same = same_axes(axes, axes_);
  if (axes_same && same_options(opt, given_)) return;
  if (differ_only_in_crystal(opt, given_)) {
    Prepared next = p_;  // tables by value: small; the F table is shared
    reconfigure_crystal(next, opt);
    if (axes) set_crystal_orientation(next, (*axes)[0], (*axes)[1], (*axes)[2]);
    p_ = std::move(next);
  } else {
    Prepared next = prepare_with_axes(opt, p_.F, sources_, axes);
    if (next.det.fpixels != p_.det.fpixels || next.det.spixels != p_.det.spixels) {
      if (!mask_.empty()) throw std::invalid_argument("the detector size cannot change: the mask was given for it");
    }
    p_ = std::move(next);
    ++sources_revision_;
  }
  ++cells_revision_;
  given_ = opt;
  axes_ = axes;
}

void Simulator::set_spectrum(std::vector<double> lambda, std::vector<double> weight) {
  std::lock_guard<std::mutex> lock(mutex_);
  SourceList sources = sources_;
  sources.spectrum_lambda = std::move(lambda), sources.spectrum_weight = std::move(weight);
  Prepared next = prepare_with_axes(given_, p_.F, sources, axes_);
  p_ = std::move(next);
  sources_ = std::move(sources);
  ++sources_revision_;
  ++cells_revision_;
}

template <>
Simulator::Cache<double>& Simulator::cache<double>() {
  return cache_d_;
}
template <>
Simulator::Cache<float>& Simulator::cache<float>() {
  return cache_f_;
}

template <typename Real>
SimParams<Real> Simulator::params() {
  std::lock_guard<std::mutex> lock(mutex_);
  return params_locked<Real>();
}
template SimParams<double> Simulator::params<double>();
template SimParams<float> Simulator::params<float>();

template <typename Real>
SimParams<Real> Simulator::params_locked() {
  Cache<Real>& c = cache<Real>();
  if (c.sources_revision != sources_revision_) {
    fill_source_tables(p_, c.tables);
    c.sources_revision = sources_revision_;
  }
  if (c.cells_revision != cells_revision_) {
    fill_orientation_tables(p_, c.tables);
    c.cells_revision = cells_revision_;
  }
  if (!c.F_filled) {  // the table never changes
    fill_structure_factor_table(p_, c.tables);
    c.F_filled = true;
  }
  return sim_params(p_, c.tables, mask());
}

template <typename Out>
RenderStats Simulator::render(Out* out, bool single, int threads, cpu::RenderControl control) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (single) return cpu::render<float, Out>(params_locked<float>(), out, threads, control);
  return cpu::render<double, Out>(params_locked<double>(), out, threads, control);
}
template RenderStats Simulator::render<float>(float*, bool, int, cpu::RenderControl);
template RenderStats Simulator::render<double>(double*, bool, int, cpu::RenderControl);

PixelTrace Simulator::trace(int fpixel, int spixel, bool first_evaluation, bool interpolate, bool single,
                            double& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fpixel < 0 || fpixel >= p_.det.fpixels || spixel < 0 || spixel >= p_.det.spixels) {
    throw std::invalid_argument("pixel (" + std::to_string(fpixel) + ", " + std::to_string(spixel) +
                                ") is outside the detector");
  }
  PixelTrace t{};
  auto run_one = [&](auto tag) {
    using Real = decltype(tag);
    const SimParams<Real> sp = params_locked<Real>();
    PixelState st{&t, first_evaluation, interpolate && sp.interpolate != 0, false, {0, 0, 0}, 0.0};
    // Same as the image: the value is stored once as float.
    value = double(static_cast<float>(pixel_intensity(sp, fpixel, spixel, st)));
  };
  if (single) {
    run_one(float{});
  } else {
    run_one(double{});
  }
  return t;
}

}  // namespace nanobragg
