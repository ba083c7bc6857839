/// Simulator: one run from its resolved options to pixels. It owns the Prepared set-up
/// (geometry, sampling, crystal, sources, orientation table, the shared structure-factor table),
/// the mask and the kernel tables of each precision, built once. update() re-derives only what a
/// change touches; render() fills caller-owned memory; trace() evaluates one pixel for -printout.
/// The CLI, the Python API, datasets and the CUDA backend (which mirrors its tables on the device,
/// cuda/simulate.hpp) all render through it. Host only; not thread-safe (one call at a time).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "nanobragg/core/kernel.hpp"
#include "nanobragg/core/schedule.hpp"
#include "nanobragg/cpu/simulate.hpp"
#include "nanobragg/setup.hpp"
#include "nanobragg/sim_params.hpp"

namespace nanobragg {

/// Unrotated real-space cell axes a, b, c (metres, phi = 0, before mosaic) replacing cell + misset.
using CellAxes = std::array<Vec3d, 3>;

/// True when every field of a and b holds the same bits.
bool same_options(const Options& a, const Options& b);
/// True when a and b differ at most in fields of reach Crystal (option_fields.def).
bool differ_only_in_crystal(const Options& a, const Options& b);

class Simulator {
 public:
  /// F: the structure-factor table (null for none), shared, never copied. sources: the -sourcefile
  /// rows (empty to generate them). mask: fpixels*spixels values (0 = skip) or empty. Throws
  /// std::invalid_argument on inputs the C cannot render.
  Simulator(const Options& opt, std::shared_ptr<const FTableData> F, SourceList sources,
            std::vector<std::uint16_t> mask = {}, const std::optional<CellAxes>& axes = std::nullopt);

  const Prepared& prepared() const { return p_; }
  /// The options as given (before the beam clipped the sample).
  const Options& options() const { return given_; }
  const std::optional<CellAxes>& axes() const { return axes_; }
  const std::uint16_t* mask() const { return mask_.empty() ? nullptr : mask_.data(); }
  std::shared_ptr<const FTableData> structure_factors() const { return p_.F; }

  /// Brings the run to opt and axes. Nothing is done when both are unchanged; a change of the
  /// crystal, phi or mosaic fields (or of the axes) re-derives the crystal, mosaic domains and
  /// orientation table only; any other change re-runs the set-up from opt, keeping the
  /// structure-factor table and the source rows. The result equals a new Simulator built with
  /// opt and axes. Strong exception guarantee.
  void update(const Options& opt, const std::optional<CellAxes>& axes = std::nullopt);

  /// Replaces the spectrum (wavelengths in m, weights > 0; both empty: the -dispersion sources)
  /// and re-runs the set-up. Strong exception guarantee.
  void set_spectrum(std::vector<double> lambda, std::vector<double> weight);

  /// Replaces the mask (fpixels*spixels values, 0 = skip; empty for none). Throws
  /// std::invalid_argument when its size is not the detector's.
  void set_mask(std::vector<std::uint16_t> mask);

  /// Kernel parameters of the current state, host pointers; tables converted when stale.
  template <typename Real>
  SimParams<Real> params();

  /// Renders every pixel into out (row-major (spixels, fpixels); Out = float or double).
  template <typename Out>
  RenderStats render(Out* out, bool single, int threads = 0, cpu::RenderControl control = {});

  /// The last evaluation of pixel (f, s), as -printout reports it; value receives the pixel.
  PixelTrace trace(int fpixel, int spixel, bool first_evaluation, bool interpolate, bool single, double& value);

  /// Bumped whenever the source or orientation table or the mask changes (the device copy follows).
  std::uint64_t sources_revision() const { return sources_revision_; }
  std::uint64_t cells_revision() const { return cells_revision_; }
  std::uint64_t mask_revision() const { return mask_revision_; }

 private:
  template <typename Real>
  struct Cache {
    KernelTables<Real> tables;
    std::uint64_t sources_revision = 0, cells_revision = 0;  // 0: never filled
    bool F_filled = false;
  };
  template <typename Real>
  Cache<Real>& cache();
  template <typename Real>
  SimParams<Real> params_locked();

  mutable std::mutex mutex_;
  Options given_;
  std::optional<CellAxes> axes_;
  SourceList sources_;
  std::vector<std::uint16_t> mask_;
  Prepared p_;
  std::uint64_t sources_revision_ = 1, cells_revision_ = 1, mask_revision_ = 1;
  Cache<double> cache_d_;
  Cache<float> cache_f_;
};

}  // namespace nanobragg
