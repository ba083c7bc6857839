/// The CUDA renderer: DeviceSimulator (a run object's tables mirrored in device memory, kept in step
/// with its updates) rendering into caller-owned device arrays (__cuda_array_interface__, e.g.
/// CuPy) in place on the caller's stream, or into a host NumPy array with one copy back.
#include <pybind11/numpy.h>

#include <memory>
#include <string>

#include "arrays.hpp"
#include "common.hpp"
#include "nanobragg/cuda/simulate.hpp"
#include "nanobragg/simulator.hpp"
#include "render.hpp"

namespace nanobragg::bindings {

namespace {
using cuda::DeviceSimulator;

bool parse_precision(const std::string& precision) {
  if (precision != "double" && precision != "single") {
    throw py::value_error("precision must be 'double' or 'single', got '" + precision + "'");
  }
  return precision == "single";
}

std::unique_ptr<DeviceSimulator> make_simulator(Simulator& sim, const std::string& precision, int device) {
  const bool single = parse_precision(precision);
  py::gil_scoped_release release;
  return std::make_unique<DeviceSimulator>(sim, single, device);
}

/// Where a render goes: the checked device array and the streams to use.
struct Target {
  DeviceArray array;
  cuda::StreamHandle stream = cuda::kLegacyStream;
  cuda::StreamHandle producer = 0;  // the array's own stream, waited for first; 0 for none
};

/// Checks out (a writable, C-contiguous float32/float64 device array of shape (spixels, fpixels))
/// without touching the device. The stream is the stream argument, else the array's own 'stream'
/// entry (CuPy exports its current stream there), else the legacy default stream; with both, the
/// render waits for the array's stream first.
Target resolve_target(const py::object& out, const py::object& stream, int spixels, int fpixels) {
  Target t;
  t.array = writable_device_image(out, "out", {"<f4", "<f8"});
  const DeviceArray& a = t.array;
  if (a.shape.size() != 2 || a.shape[0] != spixels || a.shape[1] != fpixels) {
    throw py::type_error("out must have shape (" + std::to_string(spixels) + ", " + std::to_string(fpixels) + ")");
  }
  if (!stream.is_none()) {
    t.stream = stream_handle(stream);
    if (a.has_stream) t.producer = a.stream;
  } else if (a.has_stream) {
    t.stream = a.stream;
  }
  return t;
}

void enqueue(DeviceSimulator& sim, const Target& t) {
  py::gil_scoped_release release;
  if (t.array.typestr == "<f4") {
    sim.render(static_cast<float*>(t.array.data), t.stream, t.producer);
  } else {
    sim.render(static_cast<double*>(t.array.data), t.stream, t.producer);
  }
}

void render_into(DeviceSimulator& sim, const py::object& out, const py::object& stream) {
  enqueue(sim, resolve_target(out, stream, sim.spixels(), sim.fpixels()));
}

RenderStats wait_for(DeviceSimulator& sim) {
  py::gil_scoped_release release;
  return sim.wait();
}
py::dict render_to_host(DeviceSimulator& sim, const py::object& out) {
  const int f = sim.fpixels(), sp = sim.spixels();
  auto check_shape = [&](const py::array& a) {
    if (a.ndim() != 2 || a.shape(0) != sp || a.shape(1) != f) {
      throw py::type_error("out must have shape (" + std::to_string(sp) + ", " + std::to_string(f) + ")");
    }
  };
  const bool is_float = py::isinstance<py::array>(out) &&
                        py::reinterpret_borrow<py::array>(out).dtype().is(py::dtype::of<float>());
  auto a32 = is_float ? writable_image<float>(out, "out") : py::array_t<float, py::array::c_style>();
  auto a64 = is_float ? py::array_t<double, py::array::c_style>() : writable_image<double>(out, "out");
  check_shape(is_float ? py::array(a32) : py::array(a64));
  RenderStats st;
  {
    py::gil_scoped_release release;
    st = is_float ? sim.render_to_host(a32.mutable_data()) : sim.render_to_host(a64.mutable_data());
  }
  return render_stats_dict(st);
}
}  // namespace

void add_cuda(py::module_& m) {
  m.def(
      "runtime_status",
      [] {
        const cuda::RuntimeStatus st = cuda::runtime_status();
        py::dict d;
        d["device_count"] = st.device_count;
        d["runtime_version"] = st.runtime_version;
        d["driver_version"] = st.driver_version;
        d["error"] = st.error;
        return d;
      },
      "CUDA runtime and driver versions and the visible device count; never raises (error says why no device).");
  m.def("device_count", [] { return cuda::runtime_status().device_count; },
        "Number of visible CUDA devices; 0 without a driver or GPU.");
  m.def("device_description", &cuda::device_description, py::arg("device") = 0,
        "Name, compute capability and memory of a device.");

  m.def(
      "check_output",
      [](const py::object& out, int spixels, int fpixels, const py::object& stream) {
        (void)resolve_target(out, stream, spixels, fpixels);
      },
      py::arg("out"), py::arg("spixels"), py::arg("fpixels"), py::arg("stream") = py::none(),
      "Check out (and stream) as DeviceSimulator.render() does, without touching the device: TypeError or\n"
      "ValueError saying what was expected.");

  py::class_<DeviceSimulator>(m, "DeviceSimulator",
                              "One run object (_core.Simulator) on one CUDA device: the F table and the mask are "
                              "copied once, the source and orientation tables again only after the run object "
                              "changed them, so render() never uses a stale state.")
      .def(py::init(&make_simulator), py::arg("simulator"), py::arg("precision") = "double", py::arg("device") = -1,
           py::keep_alive<1, 2>(),
           "precision: 'double' or 'single' kernel arithmetic; device: CUDA ordinal, -1 for the current device.\n"
           "Raises RuntimeError when no CUDA device is usable.")
      .def("render", &render_into, py::arg("out"), py::arg("stream") = py::none(),
           "Enqueue the render into out (device array, float32 or float64, C-contiguous, shape (spixels, fpixels)) "
           "in place and return at once. stream: None (the array's own stream, else the default stream), an int "
           "or a stream object with .ptr. Call wait() for the statistics.")
      .def("wait", [](DeviceSimulator& sim) { return render_stats_dict(wait_for(sim)); },
           "Wait for the latest render and return its statistics (the same as a CPU render's).")
      .def("render_to_host", &render_to_host, py::arg("out"),
           "Render into a host NumPy array (float32 or float64, shape (spixels, fpixels)) in place: one copy\n"
           "back from the device; waits and returns the statistics.")
      .def_property_readonly("device", &DeviceSimulator::device)
      .def_property_readonly("precision", [](const DeviceSimulator& s) { return s.single() ? "single" : "double"; })
      .def_property_readonly("shape", [](const DeviceSimulator& s) { return py::make_tuple(s.spixels(), s.fpixels()); })
      .def_property_readonly("device_bytes", &DeviceSimulator::device_bytes,
                             "Device memory held for the tables (bytes).")
      .def("__repr__", [](const DeviceSimulator& s) {
        return "<DeviceSimulator device=" + std::to_string(s.device()) + " precision=" +
               (s.single() ? "single" : "double") + " shape=(" + std::to_string(s.spixels()) + ", " +
               std::to_string(s.fpixels()) + ")>";
      });

}

}  // namespace nanobragg::bindings

