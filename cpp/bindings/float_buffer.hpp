/// A float32 image of a known size through Python's buffer protocol: a NumPy array of shape
/// (slow, fast) or any flat, C-contiguous float buffer (array.array('f')), so a command that never
/// needs NumPy does not import it (~0.2 s of CPU at start-up). Nothing is converted or copied.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

namespace nanobragg::bindings {
namespace py = pybind11;

/// The buffer of image, checked: float32, C-contiguous, fast * slow elements (with 2 dimensions
/// exactly (slow, fast)), writable when asked; TypeError or ValueError saying what was expected.
inline py::buffer_info float_image_buffer(const py::object& image, const char* name, int fast, int slow,
                                          bool writable) {
  if (!PyObject_CheckBuffer(image.ptr())) {
    throw py::type_error(std::string(name) + " must be a float32 NumPy array or buffer, got " +
                         std::string(py::str(py::type::handle_of(image))));
  }
  py::buffer_info info;
  try {
    info = py::reinterpret_borrow<py::buffer>(image).request(writable);
  } catch (const py::error_already_set&) {
    throw py::type_error(std::string(name) + (writable ? " must be writable" : " cannot be read as a buffer"));
  }
  const std::string& f = info.format;
  if (info.itemsize != 4 || !(f == "f" || f == "<f" || f == "=f")) {
    throw py::type_error(std::string(name) + " must be float32, got buffer format '" + f + "' (no silent conversion)");
  }
  py::ssize_t expect = 4;
  for (py::ssize_t d = info.ndim - 1; d >= 0; --d) {
    if (info.shape[std::size_t(d)] != 1 && info.strides[std::size_t(d)] != expect) {
      throw py::type_error(std::string(name) + " must be C-contiguous");
    }
    expect *= info.shape[std::size_t(d)];
  }
  const bool shape_ok = info.ndim == 2 ? info.shape[0] == slow && info.shape[1] == fast
                                       : info.ndim == 1 && info.shape[0] == py::ssize_t(fast) * slow;
  if (!shape_ok) {
    throw py::value_error(std::string(name) + " must have shape (" + std::to_string(slow) + ", " +
                          std::to_string(fast) + ") = (slow, fast) of the detector, or " +
                          std::to_string(py::ssize_t(fast) * slow) + " floats in a flat buffer");
  }
  return info;
}

}  // namespace nanobragg::bindings
