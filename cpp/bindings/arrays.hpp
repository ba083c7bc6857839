/// Every array check of the bindings in one place: caller-owned, C-contiguous, writable arrays of
/// an exact dtype, or a TypeError that says what was expected. Nothing is ever converted or copied.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>           // for std::uintptr_t (device pointers)
#include <initializer_list>
#include <string>
#include <vector>

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

// ---- device arrays (__cuda_array_interface__) ------------------------------------------------
// pybind11 does not read __cuda_array_interface__, so this is the one place that does. Plain
// Python-object parsing: no CUDA header, and nothing here touches the device.

/// A device array as its __cuda_array_interface__ (v2 or v3) describes it.
struct DeviceArray {
  void* data = nullptr;
  std::string typestr;                // normalised to little-endian, e.g. "<f4"
  std::vector<py::ssize_t> shape;
  bool has_stream = false;            // v3 'stream' entry present and not None
  std::uintptr_t stream = 0;          // 1 legacy default, 2 per-thread default, else a cudaStream_t
};

/// Reads obj.__cuda_array_interface__ and checks, without copying, that it describes a writable,
/// unmasked, C-contiguous (strides None or row-major) array whose typestr is one of typestrs
/// (e.g. {"<f4", "<f8"}); raises TypeError saying what was expected otherwise, ValueError for an
/// invalid 'stream' entry (0 is disallowed by the protocol).
inline DeviceArray writable_device_image(const py::object& obj, const char* name,
                                         std::initializer_list<const char*> typestrs) {
  const std::string n(name);
  if (!py::hasattr(obj, "__cuda_array_interface__")) {
    throw py::type_error(n + " must be a CUDA device array with __cuda_array_interface__ (e.g. a CuPy array), got " +
                         std::string(py::str(py::type::handle_of(obj))));
  }
  py::object iface_obj = obj.attr("__cuda_array_interface__");
  if (!py::isinstance<py::dict>(iface_obj)) throw py::type_error(n + ".__cuda_array_interface__ is not a dict");
  py::dict iface = py::reinterpret_borrow<py::dict>(iface_obj);
  for (const char* key : {"shape", "typestr", "data"}) {
    if (!iface.contains(key)) throw py::type_error(n + ".__cuda_array_interface__ lacks '" + key + "'");
  }
  DeviceArray a;

  a.typestr = py::cast<std::string>(iface["typestr"]);
  if (!a.typestr.empty() && (a.typestr[0] == '=' || a.typestr[0] == '|')) a.typestr[0] = '<';  // x86/ARM hosts
  bool dtype_ok = false;
  std::string wanted;
  for (const char* t : typestrs) {
    dtype_ok = dtype_ok || a.typestr == t;
    wanted += (wanted.empty() ? "" : " or ") + std::string(t);
  }
  if (!dtype_ok) {
    throw py::type_error(n + " must have typestr " + wanted + ", got '" + a.typestr + "' (no silent conversion)");
  }
  const py::ssize_t itemsize = std::stoi(a.typestr.substr(2));

  for (py::handle d : py::reinterpret_borrow<py::tuple>(iface["shape"])) a.shape.push_back(py::cast<py::ssize_t>(d));

  if (iface.contains("strides") && !iface["strides"].is_none()) {
    py::tuple strides = py::reinterpret_borrow<py::tuple>(iface["strides"]);
    if (strides.size() != a.shape.size()) throw py::type_error(n + ": strides and shape differ in length");
    py::ssize_t expected = itemsize;
    bool empty = false;
    for (py::ssize_t extent : a.shape) empty = empty || extent == 0;
    for (std::size_t i = a.shape.size(); i-- > 0;) {
      // Extent-1 axes may carry any stride (NumPy's relaxed strides); empty arrays are contiguous.
      if (!empty && a.shape[i] != 1 && py::cast<py::ssize_t>(strides[i]) != expected) {
        throw py::type_error(n + " must be C-contiguous");
      }
      expected *= a.shape[i];
    }
  }

  if (iface.contains("mask") && !iface["mask"].is_none()) throw py::type_error(n + " must not be a masked array");

  py::tuple data = py::reinterpret_borrow<py::tuple>(iface["data"]);
  if (data.size() != 2) throw py::type_error(n + ".__cuda_array_interface__['data'] must be (pointer, read_only)");
  if (py::cast<bool>(data[1])) throw py::type_error(n + " must be writable (its interface says read-only)");
  a.data = reinterpret_cast<void*>(py::cast<std::uintptr_t>(data[0]));

  if (iface.contains("stream") && !iface["stream"].is_none()) {
    a.stream = py::cast<std::uintptr_t>(iface["stream"]);
    if (a.stream == 0) throw py::value_error(n + ".__cuda_array_interface__['stream'] is 0, which the protocol disallows");
    a.has_stream = true;
  }
  return a;
}

/// A CUDA stream given from Python: None -> default, an int (a cudaStream_t value, 1 and 2 being
/// the legacy and per-thread default streams), or an object with .ptr (CuPy) or .cuda_stream (PyTorch).
inline std::uintptr_t stream_handle(const py::object& s) {
  if (s.is_none()) return 0;
  if (py::isinstance<py::int_>(s)) return py::cast<std::uintptr_t>(s);
  if (py::hasattr(s, "ptr")) return py::cast<std::uintptr_t>(s.attr("ptr"));
  if (py::hasattr(s, "cuda_stream")) return py::cast<std::uintptr_t>(s.attr("cuda_stream"));
  throw py::type_error("stream must be None, an int or a stream object with .ptr or .cuda_stream, got " +
                       std::string(py::str(py::type::handle_of(s))));
}

}  // namespace nanobragg::bindings
