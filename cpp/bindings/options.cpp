/// Options and its enums, with the fixed-size vector fields exposed as 3- or 9-tuples.
#include <pybind11/stl.h>

#include <array>

#include "common.hpp"
#include "nanobragg/options.hpp"

namespace nanobragg::bindings {

namespace {
template <std::size_t N>
void def_array(py::class_<Options>& cls, const char* name, double (Options::*field)[N]) {
  cls.def_property(
      name,
      [field](const Options& o) {
        std::array<double, N> a;
        for (std::size_t i = 0; i < N; ++i) a[i] = (o.*field)[i];
        return a;
      },
      [field](Options& o, const std::array<double, N>& a) {
        for (std::size_t i = 0; i < N; ++i) (o.*field)[i] = a[i];
      });
}
}  // namespace

void add_options(py::module_& m) {
  py::enum_<Convention>(m, "Convention")
      .value("CUSTOM", Convention::Custom)
      .value("ADXV", Convention::Adxv)
      .value("MOSFLM", Convention::Mosflm)
      .value("XDS", Convention::Xds)
      .value("DIALS", Convention::Dials)
      .value("DENZO", Convention::Denzo);
  py::enum_<Pivot>(m, "Pivot").value("SAMPLE", Pivot::Sample).value("BEAM", Pivot::Beam);

  py::class_<Options> cls(m, "Options", "Every setting of a run in the C's internal units (m, rad) and sentinels.");
  cls.def(py::init<>());
  cls.def(py::init<const Options&>(), py::arg("other"), "A copy of other.");
  // One attribute per field of option_fields.def, nothing written per field here.
#define NANOBRAGG_FIELD(reach, type, name, ...) cls.def_readwrite(#name, &Options::name);
#define NANOBRAGG_ARRAY(reach, type, name, ...) def_array(cls, #name, &Options::name);
#include "nanobragg/option_fields.def"
}

}  // namespace nanobragg::bindings
