/// The CPU renderer: fills a caller-owned float32 or float64 array in place, GIL released.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <atomic>
#include <csignal>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "arrays.hpp"
#include "common.hpp"
#include "nanobragg/cpu/simulate.hpp"
#include "nanobragg/core/kernel.hpp"
#include "nanobragg/sim_params.hpp"
#include "render_cpu.hpp"

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

template <typename Real, typename Out>
cpu::RenderStats run(const Prepared& p, Out* out, const std::uint16_t* mask, int threads, RenderControls* c) {
  KernelTables<Real> tables;
  const SimParams<Real> sp = make_sim_params<Real>(p, tables, mask);
  cpu::RenderControl control;
  if (c) control.cancel = &c->cancel, control.progress = &c->progress;
  return cpu::render<Real, Out>(sp, out, threads, control);
}
}  // namespace

template <typename Out>
cpu::RenderStats render_on_cpu(const Prepared& p, Out* out, const std::uint16_t* mask, bool single, int threads,
                               RenderControls* controls, bool catch_sigint) {
  RenderControls local;
  if (catch_sigint && !controls) controls = &local;
  SigintGuard guard(catch_sigint ? &controls->cancel : nullptr);
  return single ? run<float, Out>(p, out, mask, threads, controls) : run<double, Out>(p, out, mask, threads, controls);
}
template cpu::RenderStats render_on_cpu<float>(const Prepared&, float*, const std::uint16_t*, bool, int,
                                               RenderControls*, bool);
template cpu::RenderStats render_on_cpu<double>(const Prepared&, double*, const std::uint16_t*, bool, int,
                                                RenderControls*, bool);

void add_cpu(py::module_& m) {
  py::class_<RenderControls>(m, "RenderControls", "Cancel flag and progress counter for a running render.")
      .def(py::init<>())
      .def("cancel", [](RenderControls& c) { c.cancel = 1; })
      .def_property_readonly("cancelled", [](const RenderControls& c) { return c.cancel.load() != 0; })
      .def_property_readonly("progress", [](const RenderControls& c) { return c.progress.load(); });

  m.def(
      "render_cpu",
      [](const Prepared& p, py::object out, py::object mask, const std::string& precision, int threads,
         RenderControls* controls, bool catch_sigint) {
        const int f = p.det.fpixels, s = p.det.spixels;
        if (precision != "double" && precision != "single") {
          throw py::value_error("precision must be 'double' or 'single', got '" + precision + "'");
        }
        const bool single = precision == "single";
        const std::uint16_t* mask_ptr = nullptr;
        py::array_t<std::uint16_t, py::array::c_style> mask_arr;
        if (!mask.is_none()) {
          mask_arr = readonly_array<std::uint16_t>(mask, "mask");
          if (mask_arr.size() != py::ssize_t(f) * s) {
            throw py::value_error("mask has " + std::to_string(mask_arr.size()) + " pixels; the detector has " +
                                  std::to_string(std::int64_t(f) * s));
          }
          mask_ptr = mask_arr.data();
        }
        auto check_shape = [&](const py::array& a) {
          if (a.ndim() != 2 || a.shape(0) != s || a.shape(1) != f) {
            throw py::type_error("out must have shape (" + std::to_string(s) + ", " + std::to_string(f) + ")");
          }
        };
        cpu::RenderStats stats;
        py::array arr = py::isinstance<py::array>(out) ? py::reinterpret_borrow<py::array>(out) : py::array();
        if (py::isinstance<py::array>(out) && arr.dtype().is(py::dtype::of<float>())) {
          auto a = writable_image<float>(out, "out");
          check_shape(a);
          float* ptr = a.mutable_data();
          py::gil_scoped_release release;
          stats = render_on_cpu<float>(p, ptr, mask_ptr, single, threads, controls, catch_sigint);
        } else {
          auto a = writable_image<double>(out, "out");  // raises TypeError for anything else
          check_shape(a);
          double* ptr = a.mutable_data();
          py::gil_scoped_release release;
          stats = render_on_cpu<double>(p, ptr, mask_ptr, single, threads, controls, catch_sigint);
        }
        return render_stats_dict(stats);
      },
      py::arg("prepared"), py::arg("out"), py::arg("mask") = py::none(), py::arg("precision") = "double",
      py::arg("threads") = 0, py::arg("controls") = nullptr, py::arg("catch_sigint") = false,
      "Render into out (float32 or float64, C-contiguous, shape (spixels, fpixels)) in place.\n"
      "catch_sigint (main thread only): Ctrl-C cancels the render; the result has cancelled=True.");

  m.def(
      "trace_pixel",
      [](const Prepared& p, int fpixel, int spixel, bool first_evaluation, bool interpolate,
         const std::string& precision) {
        if (fpixel < 0 || fpixel >= p.det.fpixels || spixel < 0 || spixel >= p.det.spixels) {
          throw py::value_error("pixel (" + std::to_string(fpixel) + ", " + std::to_string(spixel) +
                                ") is outside the detector");
        }
        PixelTrace t{};
        double value = 0;
        auto run_one = [&](auto tag) {
          using Real = decltype(tag);
          KernelTables<Real> tables;
          const SimParams<Real> sp = make_sim_params<Real>(p, tables, nullptr);
          PixelState st{&t, first_evaluation, interpolate && sp.interpolate != 0, false, {0, 0, 0}, 0.0};
          value = double(static_cast<float>(pixel_intensity(sp, fpixel, spixel, st)));
        };
        if (precision == "single") run_one(float{});
        else run_one(double{});
        py::dict d;
        d["pos"] = py::make_tuple(t.pos[0], t.pos[1], t.pos[2]);
        d["stol"] = t.stol;
        d["hkl"] = py::make_tuple(t.hkl[0], t.hkl[1], t.hkl[2]);
        d["hkl0"] = py::make_tuple(t.hkl0[0], t.hkl0[1], t.hkl0[2]);
        d["F_cell"] = t.F_cell, d["F_latt"] = t.F_latt, d["I"] = t.I;
        d["polar"] = t.polar, d["omega"] = t.omega, d["capture"] = t.capture, d["pixel"] = value;
        d["cell"] = std::vector<double>(t.cell, t.cell + 9);
        return d;
      },
      py::arg("prepared"), py::arg("fpixel"), py::arg("spixel"), py::arg("first_evaluation") = false,
      py::arg("interpolate") = true, py::arg("precision") = "double",
      "The last evaluation of one pixel, as nanoBragg's -printout reports it.");

  m.def("openmp_max_threads", [] {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
  });
}

}  // namespace nanobragg::bindings
