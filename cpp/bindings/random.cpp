/// The Poisson noise image, drawn with the C-identical generator (the C++ tests check the generator itself).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <vector>

#include "arrays.hpp"
#include "common.hpp"
#include "nanobragg/io/images.hpp"
#include "nanobragg/random.hpp"
#include "nanobragg/setup.hpp"

namespace nanobragg::bindings {

void add_random(py::module_& m) {
  m.def(
      "noise_image",
      [](py::object image, long seed, std::array<int, 4> roi, double adc, const Prepared* prepared) {
        auto img = readonly_array<float>(image, "image");
        if (img.ndim() != 2) throw py::type_error("image must be 2-D");
        NoiseResult r;
        {
          py::gil_scoped_release release;
          // The C shares one shuffle table across its random streams (Q16).
          r = noise_image(img.data(), int(img.shape(1)), int(img.shape(0)), {roi[0], roi[1], roi[2], roi[3]}, adc,
                          seed, prepared ? prepared->rng : RandomState{});
        }
        py::array_t<std::uint16_t> out({img.shape(0), img.shape(1)});
        std::copy(r.pixels.begin(), r.pixels.end(), out.mutable_data());
        return py::make_tuple(out, r.photons, r.overloads);
      },
      py::arg("image"), py::arg("seed"), py::arg("roi"), py::arg("adc"), py::arg("prepared") = nullptr,
      "Poisson noise image of a float32 image, drawn in raster order over the ROI as the C does.\n"
      "Returns (uint16 image, photons, overloads).");
}

}  // namespace nanobragg::bindings
