/// Every array check of the bindings in one place: caller-owned, C-contiguous, writable arrays of
/// an exact dtype, or a TypeError that says what was expected. Nothing is ever converted or copied.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

namespace nanobragg::bindings {
namespace py = pybind11;

/// Checks that obj is a NumPy array of dtype T, C-contiguous, with ndim >= 2 and writable.
template <typename T>
py::array_t<T, py::array::c_style> writable_image(const py::object& obj, const char* name) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + " must be a NumPy array, got " + std::string(py::str(py::type::handle_of(obj))));
  }
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) {
    throw py::type_error(std::string(name) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                         ", got " + std::string(py::str(arr.dtype())) + " (no silent conversion)");
  }
  if (!(arr.flags() & py::array::c_style)) throw py::type_error(std::string(name) + " must be C-contiguous");
  if (!arr.writeable()) throw py::type_error(std::string(name) + " must be writable");
  return py::reinterpret_borrow<py::array_t<T, py::array::c_style>>(arr);
}

/// Read-only view of a C-contiguous array of dtype T (no conversion either).
template <typename T>
py::array_t<T, py::array::c_style> readonly_array(const py::object& obj, const char* name) {
  if (!py::isinstance<py::array>(obj)) throw py::type_error(std::string(name) + " must be a NumPy array");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) {
    throw py::type_error(std::string(name) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                         ", got " + std::string(py::str(arr.dtype())));
  }
  if (!(arr.flags() & py::array::c_style)) throw py::type_error(std::string(name) + " must be C-contiguous");
  return py::reinterpret_borrow<py::array_t<T, py::array::c_style>>(arr);
}

}  // namespace nanobragg::bindings
