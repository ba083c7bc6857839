/// The _cuda extension module: the CUDA renderer. Separate from _core so that `import nanobragg_ext`
/// works on hosts without CUDA; it is imported inside try/except and reported by backends().
#include <string>

#include "common.hpp"
#include "nanobragg/version.hpp"

namespace nanobragg::bindings {
void add_cuda(py::module_& m);            // cuda.cpp
void add_cuda_amorphous(py::module_& m);  // cuda_amorphous.cpp
}

#ifndef NANOBRAGG_CUDA_ARCHITECTURES
#define NANOBRAGG_CUDA_ARCHITECTURES "unknown"
#endif

PYBIND11_MODULE(_cuda, m) {
  namespace py = pybind11;
  m.doc() = "nanobragg-ext native CUDA backend";
  m.attr("__version__") = NANOBRAGG_VERSION;
  m.attr("architectures") = NANOBRAGG_CUDA_ARCHITECTURES;  // CMAKE_CUDA_ARCHITECTURES of this build
  // Prepared and Options are registered by _core; importing it first makes them known here
  // (pybind11 shares registered types between modules built with the same pybind11 and compiler).
  const std::string name = py::cast<std::string>(m.attr("__name__"));
  const auto dot = name.rfind('.');
  py::module_::import(dot == std::string::npos ? "_core" : (name.substr(0, dot) + "._core").c_str());
  nanobragg::bindings::add_cuda(m);
  nanobragg::bindings::add_cuda_amorphous(m);
}
