/// Declarations shared by the binding files: one add_<topic>() per file, called by module_core.cpp.
#pragma once
#include <pybind11/pybind11.h>

namespace nanobragg::bindings {
namespace py = pybind11;

void add_options(py::module_& m);
void add_setup(py::module_& m);
void add_simulator(py::module_& m);
void add_random(py::module_& m);
void add_io(py::module_& m);
void add_amorphous(py::module_& m);
void add_noisify(py::module_& m);

}  // namespace nanobragg::bindings
