/// The run object (_core.Simulator): built once from options, the structure-factor table, the
/// source rows and the mask; updated in place; renders into caller-owned NumPy arrays or a new
/// C++-owned float32 image (GIL released), and traces single pixels for -printout.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <optional>
#include <stdexcept>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "arrays.hpp"
#include "common.hpp"
#include "nanobragg/simulator.hpp"
#include "render.hpp"

namespace nanobragg::bindings {

namespace {
// Ctrl-C during a render: the GIL is released, so Python's own handler cannot run until the
// render returns; this handler only raises the cancel flag (async-signal-safe) and the caller
// turns a cancelled render into KeyboardInterrupt.
std::atomic<int>* g_sigint_flag = nullptr;
extern "C" void on_sigint(int) {
  if (g_sigint_flag) g_sigint_flag->store(1);
}

/// Installs on_sigint for the lifetime of the object (main thread only), then restores.
class SigintGuard {
 public:
  explicit SigintGuard(std::atomic<int>* flag) : active_(flag != nullptr) {
    if (!active_) return;
    g_sigint_flag = flag;
    struct sigaction sa = {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_);
  }
  ~SigintGuard() {
    if (!active_) return;
    sigaction(SIGINT, &previous_, nullptr);
    g_sigint_flag = nullptr;
  }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  bool active_;
  struct sigaction previous_ = {};
};

bool parse_precision(const std::string& precision) {
  if (precision != "double" && precision != "single") {
    throw py::value_error("precision must be 'double' or 'single', got '" + precision + "'");
  }
  return precision == "single";
}

/// Renders on the CPU without the GIL; catch_sigint (main thread only): Ctrl-C cancels.
template <typename Out>
RenderStats render_native(Simulator& sim, Out* out, bool single, int threads, RenderControls* controls,
                          bool catch_sigint) {
  RenderControls local;
  if (catch_sigint && !controls) controls = &local;
  cpu::RenderControl control;
  if (controls) control.cancel = &controls->cancel, control.progress = &controls->progress;
  py::gil_scoped_release release;
  SigintGuard guard(catch_sigint ? &controls->cancel : nullptr);
  return sim.render<Out>(out, single, threads, control);
}

/// A mask given as bytes (native uint16, the CLI's SMV pixels), a uint16 array, or None.
std::vector<std::uint16_t> mask_values(const py::object& mask) {
  std::vector<std::uint16_t> m;
  if (mask.is_none()) return m;
  if (py::isinstance<py::bytes>(mask)) {
    const std::string raw = py::cast<std::string>(mask);
    m.resize(raw.size() / 2);
    std::memcpy(m.data(), raw.data(), 2 * m.size());
    return m;
  }
  auto arr = readonly_array<std::uint16_t>(mask, "mask");
  m.assign(arr.data(), arr.data() + arr.size());
  return m;
}

/// Axes as three 3-vectors (metres), or None.
std::optional<CellAxes> axes_of(const py::object& axes) {
  if (axes.is_none()) return std::nullopt;
  const auto rows = py::cast<std::array<std::array<double, 3>, 3>>(axes);
  CellAxes a;
  for (int i = 0; i < 3; ++i) a[i] = {rows[i][0], rows[i][1], rows[i][2]};
  return a;
}

py::dict trace_dict(const PixelTrace& t, double value) {
  py::dict d;
  d["pos"] = py::make_tuple(t.pos[0], t.pos[1], t.pos[2]);
  d["stol"] = t.stol;
  d["hkl"] = py::make_tuple(t.hkl[0], t.hkl[1], t.hkl[2]);
  d["hkl0"] = py::make_tuple(t.hkl0[0], t.hkl0[1], t.hkl0[2]);
  d["F_cell"] = t.F_cell, d["F_latt"] = t.F_latt, d["I"] = t.I;
  d["polar"] = t.polar, d["omega"] = t.omega, d["capture"] = t.capture, d["pixel"] = value;
  d["cell"] = std::vector<double>(t.cell, t.cell + 9);
  return d;
}

template <typename F>
auto value_errors(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}
}  // namespace

void add_simulator(py::module_& m) {
  py::class_<RenderControls>(m, "RenderControls", "Cancel flag and progress counter for a running render.")
      .def(py::init<>())
      .def("cancel", [](RenderControls& c) { c.cancel = 1; })
      .def_property_readonly("cancelled", [](const RenderControls& c) { return c.cancel.load() != 0; })
      .def_property_readonly("progress", [](const RenderControls& c) { return c.progress.load(); });

  py::class_<Simulator>(m, "Simulator",
                        "One run from options to pixels: set-up, structure factors (shared, never copied), "
                        "sources, mask and kernel tables built once; update() re-derives what a change touches.")
      .def(py::init([](const Options& opt, std::shared_ptr<FTableData> table, const std::vector<double>& source_xyz,
                       const std::vector<double>& source_lambda, const std::vector<double>& source_weight,
                       const py::object& mask, const py::object& axes, const std::vector<double>& spectrum_lambda,
                       const std::vector<double>& spectrum_weight) {
             if (source_xyz.size() != 3 * source_lambda.size()) {
               throw py::value_error("source_xyz needs 3 values per source");
             }
             SourceList sources{source_xyz, source_lambda, source_weight, spectrum_lambda, spectrum_weight};
             std::vector<std::uint16_t> mask_v = mask_values(mask);
             const std::optional<CellAxes> a = axes_of(axes);
             return value_errors([&] {
               return std::make_unique<Simulator>(opt, std::move(table), std::move(sources), std::move(mask_v), a);
             });
           }),
           py::arg("options"), py::arg("table") = nullptr, py::arg("source_xyz") = std::vector<double>{},
           py::arg("source_lambda") = std::vector<double>{}, py::arg("source_weight") = std::vector<double>{},
           py::arg("mask") = py::none(), py::arg("axes") = py::none(),
           py::arg("spectrum_lambda") = std::vector<double>{}, py::arg("spectrum_weight") = std::vector<double>{},
           "options: the run's Options; table: an FTableData or None; source_xyz/lambda/weight: the -sourcefile\n"
           "rows (3 positions per source; empty to generate sources); mask: uint16 pixels (bytes or array,\n"
           "0 = skip) or None; axes: unrotated real-space axes a, b, c (m) replacing cell + misset, or None;\n"
           "spectrum_lambda/weight: a spectrum (m, > 0) replacing the -dispersion wavelengths, or empty.")
      .def(
          "set_spectrum",
          [](Simulator& s, const std::vector<double>& lambda, const std::vector<double>& weight) {
            value_errors([&] {
              py::gil_scoped_release release;  // waits for a render running in another thread
              s.set_spectrum(lambda, weight);
            });
          },
          py::arg("spectrum_lambda"), py::arg("spectrum_weight"),
          "Replace the spectrum (wavelengths in m and weights, both > 0; empty: the -dispersion sources).")
      .def_property_readonly("prepared", &Simulator::prepared, py::return_value_policy::reference_internal,
                             "The derived set-up (read-only view; valid while the simulator lives).")
      .def_property_readonly("options", [](const Simulator& s) { return s.options(); },
                             "A copy of the options as given.")
      .def_property_readonly("table", [](const Simulator& s) { return std::const_pointer_cast<FTableData>(s.structure_factors()); },
                             "The structure-factor table (the same object, not a copy).")
      .def_property_readonly("has_mask", [](const Simulator& s) { return s.mask() != nullptr; })
      .def_property_readonly(
          "rotation", [](const Simulator& s) { return py::make_tuple(s.prepared().sampling.phi0, s.prepared().sampling.osc); },
          "(phi start, oscillation range) in radians of the current state (cheaper than prepared.sampling).")
      .def(
          "set_mask", [](Simulator& s, const py::object& mask) { value_errors([&] { s.set_mask(mask_values(mask)); }); },
          py::arg("mask"), "Replace the mask: uint16 pixels (bytes or array, 0 = skip) or None.")
      .def(
          "update",
          [](Simulator& s, const Options& opt, const py::object& axes) {
            const std::optional<CellAxes> a = axes_of(axes);
            value_errors([&] {
              py::gil_scoped_release release;  // waits for a render running in another thread
              s.update(opt, a);
            });
          },
          py::arg("options"), py::arg("axes") = py::none(),
          "Bring the run to options (and axes); re-derives only what changed. Raises ValueError (the run is\n"
          "left as it was) on options the C cannot render.")
      .def(
          "is_rendered",
          [](Simulator& s, int f, int sp) {
            const SimParams<double> p = s.params<double>();
            return f >= 0 && f < p.fpixels && sp >= 0 && sp < p.spixels && is_rendered(p, f, sp);
          },
          py::arg("fpixel"), py::arg("spixel"), "Inside the ROI and not masked off (the scheduler's test).")
      .def(
          "render",
          [](Simulator& s, const py::object& out, const std::string& precision, int threads, RenderControls* controls,
             bool catch_sigint) {
            const bool single = parse_precision(precision);
            const Prepared& p = s.prepared();
            auto check_shape = [&](const py::array& a) {
              if (a.ndim() != 2 || a.shape(0) != p.det.spixels || a.shape(1) != p.det.fpixels) {
                throw py::type_error("out must have shape (" + std::to_string(p.det.spixels) + ", " +
                                     std::to_string(p.det.fpixels) + ")");
              }
            };
            RenderStats stats;
            if (py::isinstance<py::array>(out) &&
                py::reinterpret_borrow<py::array>(out).dtype().is(py::dtype::of<float>())) {
              auto a = writable_image<float>(out, "out");
              check_shape(a);
              stats = render_native<float>(s, a.mutable_data(), single, threads, controls, catch_sigint);
            } else {
              auto a = writable_image<double>(out, "out");  // raises TypeError for anything else
              check_shape(a);
              stats = render_native<double>(s, a.mutable_data(), single, threads, controls, catch_sigint);
            }
            return render_stats_dict(stats);
          },
          py::arg("out"), py::arg("precision") = "double", py::arg("threads") = 0, py::arg("controls") = nullptr,
          py::arg("catch_sigint") = false,
          "Render into out (float32 or float64, C-contiguous, shape (spixels, fpixels)) in place; returns the\n"
          "statistics. catch_sigint (main thread only): Ctrl-C cancels the render (cancelled=True).")
      .def(
          "render_image32",
          [](Simulator& s, const std::string& precision, int threads, bool catch_sigint, RenderControls* controls) {
            const bool single = parse_precision(precision);
            auto im = std::make_unique<Image32>(s.prepared().det.fpixels, s.prepared().det.spixels);
            const RenderStats st = render_native<float>(s, im->data.get(), single, threads, controls, catch_sigint);
            // A cancelled render skipped rows: never hand out uninitialized pixels.
            if (st.cancelled) std::fill(im->data.get(), im->data.get() + im->size(), 0.0f);
            return py::make_tuple(std::move(im), render_stats_dict(st));
          },
          py::arg("precision") = "double", py::arg("threads") = 0, py::arg("catch_sigint") = false,
          py::arg("controls") = nullptr,
          "Render into a new C++-owned float32 image; returns (Image32, stats). catch_sigint: main thread only.")
      .def(
          "trace_pixel",
          [](Simulator& s, int fpixel, int spixel, bool first_evaluation, bool interpolate,
             const std::string& precision) {
            const bool single = parse_precision(precision);
            double value = 0;
            const PixelTrace t =
                value_errors([&] { return s.trace(fpixel, spixel, first_evaluation, interpolate, single, value); });
            return trace_dict(t, value);
          },
          py::arg("fpixel"), py::arg("spixel"), py::arg("first_evaluation") = false, py::arg("interpolate") = true,
          py::arg("precision") = "double", "The last evaluation of one pixel, as nanoBragg's -printout reports it.");

  m.def("openmp_max_threads", [] {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
  });
}

}  // namespace nanobragg::bindings
