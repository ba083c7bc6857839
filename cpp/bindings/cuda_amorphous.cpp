/// nonBragg's amorphous model on the CUDA backend: render_amorphous(setup, image) into a host
/// float32 image, the same image and statistics as AmorphousSetup.render() of _core.
#include <memory>
#include <string>

#include "common.hpp"
#include "float_buffer.hpp"
#include "nanobragg/cuda/amorphous.hpp"

namespace nanobragg::bindings {

void add_cuda_amorphous(py::module_& m) {
  m.def(
      "render_amorphous",
      [](const std::shared_ptr<AmorphousSetup>& setup, py::object image, bool add, int device) {
        const py::buffer_info img = float_image_buffer(image, "image", setup->det.fpixels, setup->det.spixels, true);
        float* data = static_cast<float*>(img.ptr);
        AmorphousStats st;
        {
          py::gil_scoped_release release;
          st = cuda::render_amorphous_on_device(*setup, data, add, device);
        }
        py::dict d;
        d["omega_sum"] = st.omega_sum, d["rendered"] = st.rendered, d["serial_rows"] = st.serial_rows;
        return d;
      },
      py::arg("setup"), py::arg("image"), py::arg("add") = false, py::arg("device") = -1,
      "Render a prepared amorphous run (_core.AmorphousSetup) on a CUDA device into image (float32,\n"
      "(slow, fast), or a flat float buffer); add=True adds to what is there. Returns the statistics of AmorphousSetup.render().\n"
      "RuntimeError when no device is usable; ValueError for a table whose stol goes back without\n"
      "-corrected (serial by nature).");
}

}  // namespace nanobragg::bindings
