/// Options and its enums, with the fixed-size vector fields exposed as 3- or 9-tuples.
#include <pybind11/stl.h>

#include <array>

#include "common.hpp"
#include "nanobragg/options.hpp"

namespace nanobragg::bindings {

namespace {
template <std::size_t N, double (Options::*Field)[N]>
void def_array(py::class_<Options>& cls, const char* name) {
  cls.def_property(
      name,
      [](const Options& o) {
        std::array<double, N> a;
        for (std::size_t i = 0; i < N; ++i) a[i] = (o.*Field)[i];
        return a;
      },
      [](Options& o, const std::array<double, N>& a) {
        for (std::size_t i = 0; i < N; ++i) (o.*Field)[i] = a[i];
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
#define NANOBRAGG_FIELD(name) cls.def_readwrite(#name, &Options::name)
  NANOBRAGG_FIELD(fpixels); NANOBRAGG_FIELD(spixels); NANOBRAGG_FIELD(pixel_size); NANOBRAGG_FIELD(detsize_f); NANOBRAGG_FIELD(detsize_s);
  NANOBRAGG_FIELD(distance); NANOBRAGG_FIELD(close_distance); NANOBRAGG_FIELD(Xbeam); NANOBRAGG_FIELD(Ybeam); NANOBRAGG_FIELD(Xclose);
  NANOBRAGG_FIELD(Yclose); NANOBRAGG_FIELD(ORGX); NANOBRAGG_FIELD(ORGY); NANOBRAGG_FIELD(pivot); NANOBRAGG_FIELD(convention);
  NANOBRAGG_FIELD(detector_rotx); NANOBRAGG_FIELD(detector_roty); NANOBRAGG_FIELD(detector_rotz); NANOBRAGG_FIELD(twotheta);
  NANOBRAGG_FIELD(curved_detector); NANOBRAGG_FIELD(point_pixel); NANOBRAGG_FIELD(roi_xmin); NANOBRAGG_FIELD(roi_xmax);
  NANOBRAGG_FIELD(roi_ymin); NANOBRAGG_FIELD(roi_ymax); NANOBRAGG_FIELD(detector_mu); NANOBRAGG_FIELD(detector_thick);
  NANOBRAGG_FIELD(detector_thickstep); NANOBRAGG_FIELD(detector_thicksteps); NANOBRAGG_FIELD(oversample);
  NANOBRAGG_FIELD(oversample_thick); NANOBRAGG_FIELD(oversample_polar); NANOBRAGG_FIELD(oversample_omega); NANOBRAGG_FIELD(phi0);
  NANOBRAGG_FIELD(osc); NANOBRAGG_FIELD(phistep); NANOBRAGG_FIELD(phisteps); NANOBRAGG_FIELD(lambda0); NANOBRAGG_FIELD(dispersion);
  NANOBRAGG_FIELD(dispstep); NANOBRAGG_FIELD(dispsteps); NANOBRAGG_FIELD(hdivrange); NANOBRAGG_FIELD(hdivstep); NANOBRAGG_FIELD(vdivrange);
  NANOBRAGG_FIELD(vdivstep); NANOBRAGG_FIELD(hdivsteps); NANOBRAGG_FIELD(vdivsteps); NANOBRAGG_FIELD(round_div); NANOBRAGG_FIELD(fluence);
  NANOBRAGG_FIELD(flux); NANOBRAGG_FIELD(exposure); NANOBRAGG_FIELD(beamsize); NANOBRAGG_FIELD(polarization); NANOBRAGG_FIELD(nopolar);
  NANOBRAGG_FIELD(dmin); NANOBRAGG_FIELD(user_cell); NANOBRAGG_FIELD(has_matrix); NANOBRAGG_FIELD(misset_mode); NANOBRAGG_FIELD(Na);
  NANOBRAGG_FIELD(Nb); NANOBRAGG_FIELD(Nc); NANOBRAGG_FIELD(sample_x); NANOBRAGG_FIELD(sample_y); NANOBRAGG_FIELD(sample_z); NANOBRAGG_FIELD(shape);
  NANOBRAGG_FIELD(fudge); NANOBRAGG_FIELD(mosaic_spread); NANOBRAGG_FIELD(mosaic_domains); NANOBRAGG_FIELD(mosaic_seed);
  NANOBRAGG_FIELD(misset_seed); NANOBRAGG_FIELD(interpolate); NANOBRAGG_FIELD(default_F); NANOBRAGG_FIELD(water_size);
  NANOBRAGG_FIELD(corrected); NANOBRAGG_FIELD(exact_math);
#undef NANOBRAGG_FIELD
  def_array<3, &Options::fdet>(cls, "fdet");
  def_array<3, &Options::sdet>(cls, "sdet");
  def_array<3, &Options::odet>(cls, "odet");
  def_array<3, &Options::beam>(cls, "beam");
  def_array<3, &Options::polar>(cls, "polar");
  def_array<3, &Options::spindle>(cls, "spindle");
  def_array<3, &Options::twotheta_axis>(cls, "twotheta_axis");
  def_array<3, &Options::misset>(cls, "misset");
  def_array<6, &Options::cell>(cls, "cell");
  def_array<9, &Options::matrix>(cls, "matrix");
}

}  // namespace nanobragg::bindings
