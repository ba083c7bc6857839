/// The amorphous (nonBragg) model: its table reader, set-up, CPU render into a caller-owned
/// float32 image, and nonBragg's own output images and table extraction.
#include <pybind11/stl.h>

#include <cstring>
#include <memory>

#include "common.hpp"
#include "float_buffer.hpp"
#include "nanobragg/amorphous.hpp"
#include "nanobragg/io/amorphous_images.hpp"

namespace nanobragg::bindings {

namespace {
py::tuple vec(const Vec3d& v) { return py::make_tuple(v.x, v.y, v.z); }

Roi roi_of(const AmorphousSetup& s) { return {s.roi_xmin, s.roi_xmax, s.roi_ymin, s.roi_ymax}; }

/// The buffer of a float32 image of the set-up's detector (float_buffer.hpp: NumPy not needed).
py::buffer_info image_of(const py::object& image, const AmorphousSetup& s, bool writable, const char* name = "image") {
  return float_image_buffer(image, name, s.det.fpixels, s.det.spixels, writable);
}
const float* pixels(const py::buffer_info& b) { return static_cast<const float*>(b.ptr); }

/// header then n bytes of data as one bytes object (an output file without a concatenation).
py::bytes prefixed_bytes(const py::bytes& header, const void* data, std::size_t n) {
  char* h = nullptr;
  Py_ssize_t hn = 0;
  PyBytes_AsStringAndSize(header.ptr(), &h, &hn);
  py::bytes out(nullptr, std::size_t(hn) + n);
  char* dst = PyBytes_AS_STRING(out.ptr());
  std::memcpy(dst, h, std::size_t(hn));
  std::memcpy(dst + hn, data, n);
  return out;
}

// What the console summary and the SMV header print.
py::dict summary(const AmorphousSetup& s) {
  py::dict d;
  d["fpixels"] = s.det.fpixels, d["spixels"] = s.det.spixels, d["pixel_size"] = s.det.pixel_size;
  d["detsize_x"] = s.detsize_x, d["detsize_y"] = s.detsize_y;
  d["distance"] = s.distance, d["close_distance"] = s.close_distance;
  d["Xbeam"] = s.Xbeam, d["Ybeam"] = s.Ybeam, d["Xclose"] = s.Xclose, d["Yclose"] = s.Yclose;
  d["pix0"] = vec(s.det.pix0), d["fdet"] = vec(s.det.fdet), d["sdet"] = vec(s.det.sdet), d["odet"] = vec(s.det.odet);
  d["beam"] = vec(s.det.beam), d["polar"] = vec(s.det.polar);
  d["pivot_sample"] = s.det.pivot == Pivot::Sample;
  d["roi"] = py::make_tuple(s.roi_xmin, s.roi_xmax, s.roi_ymin, s.roi_ymax);
  const Sampling& g = s.sampling;
  d["hdivrange"] = g.hdivrange, d["hdivstep"] = g.hdivstep, d["hdivsteps"] = g.hdivsteps;
  d["vdivrange"] = g.vdivrange, d["vdivstep"] = g.vdivstep, d["vdivsteps"] = g.vdivsteps;
  d["dispersion"] = g.dispersion, d["dispstep"] = g.dispstep, d["dispsteps"] = g.dispsteps;
  d["divsteps"] = g.divsteps, d["phi0"] = g.phi0, d["osc"] = g.osc;
  d["oversample"] = s.oversample, d["steps"] = s.steps;
  d["sources"] = int(s.source_lambda.size());
  d["source_raw_xyz"] = s.source_raw_xyz, d["source_weight"] = s.source_weight, d["source_lambda"] = s.source_lambda;
  d["fluence"] = s.fluence, d["molecules"] = s.molecules, d["density"] = s.density;
  d["molecular_weight"] = s.molecular_weight;
  d["sample"] = py::make_tuple(s.sample_x, s.sample_y, s.sample_z);
  d["table_points"] = int(s.table.stol.size());
  d["table_monotonic"] = s.table.monotonic;
  d["table_first_decrease"] = s.table.first_decrease;
  d["warnings"] = s.warnings;
  return d;
}
}  // namespace

void add_amorphous(py::module_& m) {
  py::class_<AmorphousOptions>(m, "AmorphousOptions", "nonBragg's sample settings (SI units: m, g/m^3, g/mol).")
      .def(py::init<>())
      .def_readwrite("sample_x", &AmorphousOptions::sample_x)
      .def_readwrite("sample_y", &AmorphousOptions::sample_y)
      .def_readwrite("sample_z", &AmorphousOptions::sample_z)
      .def_readwrite("density", &AmorphousOptions::density)
      .def_readwrite("molecules", &AmorphousOptions::molecules)
      .def_readwrite("molecular_weight", &AmorphousOptions::molecular_weight)
      .def_readwrite("source_distance", &AmorphousOptions::source_distance)
      .def_readwrite("Fmap", &AmorphousOptions::Fmap)
      .def_readwrite("corrected", &AmorphousOptions::corrected);

  m.def(
      "read_text_columns",
      [](const std::string& path, int ncols) {
        TextColumns t = read_text_columns(path, ncols);
        py::dict d;
        d["columns"] = t.columns, d["non_numeric_rows"] = t.non_numeric_rows, d["file_lines"] = t.file_lines;
        d["rows"] = t.rows;
        return d;
      },
      py::arg("path"), py::arg("ncols"),
      "Columns of a text table read exactly as nonBragg.c's read_text_file() reads them.");

  py::class_<LastEvaluation, std::shared_ptr<LastEvaluation>>(m, "LastEvaluation",
                                                             "Each pixel's last look-up (for -img and -printout).")
      .def("at", [](const LastEvaluation& l, std::size_t i) {
        return py::make_tuple(l.stol.at(i), l.polar.at(i), l.omega.at(i), l.nearest.at(i));
      });

  py::class_<AmorphousSetup, std::shared_ptr<AmorphousSetup>>(m, "AmorphousSetup",
                                                             "A prepared amorphous-scattering run (native handle).")
      .def_property_readonly("summary", &summary)
      .def_property_readonly("shape", [](const AmorphousSetup& s) { return py::make_tuple(s.det.spixels, s.det.fpixels); })
      .def(
          "render",
          [](const AmorphousSetup& s, py::object image, int threads, bool add, bool record_last) {
            const py::buffer_info img = image_of(image, s, true);
            auto last = record_last ? std::make_shared<LastEvaluation>() : nullptr;
            AmorphousStats st;
            float* data = static_cast<float*>(img.ptr);
            {
              py::gil_scoped_release release;
              st = render_amorphous(s, data, threads, add, last.get());
            }
            py::dict d;
            d["omega_sum"] = st.omega_sum, d["rendered"] = st.rendered, d["serial_rows"] = st.serial_rows;
            return py::make_tuple(d, last ? py::cast(last) : py::none());
          },
          py::arg("image"), py::arg("threads") = 0, py::arg("add") = false, py::arg("record_last") = false,
          "Render into image (float32, (slow, fast), or a flat float buffer such as array.array('f')); add=True adds\n"
          "to what is there. Returns (stats, last).")
      .def(
          "image_stats",
          [](const AmorphousSetup& s, py::object image, long long count) {
            const py::buffer_info img = image_of(image, s, false);
            const AmorphousImageStats st =
                amorphous_image_stats(pixels(img), s.det.fpixels, s.det.spixels, roi_of(s), count);
            py::dict d;
            d["max_I"] = st.max_I, d["max_index"] = st.max_index, d["sum"] = st.sum, d["mean"] = st.mean;
            d["rms"] = st.rms, d["rmsd"] = st.rmsd, d["n"] = st.n;
            return d;
          },
          py::arg("image"), py::arg("count") = -1)
      .def("int_image",
           [](const AmorphousSetup& s, py::object image, double scale, double adc, const py::bytes& header) {
             const py::buffer_info img = image_of(image, s, false);
             std::vector<std::uint16_t> v = int_image(pixels(img), s.det.fpixels, s.det.spixels, roi_of(s), scale, adc);
             return prefixed_bytes(header, v.data(), v.size() * 2);
           },
           py::arg("image"), py::arg("scale"), py::arg("adc"), py::arg("header") = py::bytes(),
           "The SMV pixels (2-byte integers), after header: the file's bytes in one allocation.")
      .def("pgm_bytes",
           [](const AmorphousSetup& s, py::object image, double scale, const py::bytes& header) {
             const py::buffer_info img = image_of(image, s, false);
             std::vector<std::uint8_t> v = amorphous_pgm_bytes(pixels(img), s.det.fpixels, s.det.spixels, roi_of(s), scale);
             return prefixed_bytes(header, v.data(), v.size());
           },
           py::arg("image"), py::arg("scale"), py::arg("header") = py::bytes(),
           "The PGM pixels after header (as int_image).")
      .def("noise_image",
           [](const AmorphousSetup& s, py::object image, double adc, long seed) {
             const py::buffer_info img = image_of(image, s, false);
             NoiseResult r = noise_image(pixels(img), s.det.fpixels, s.det.spixels, roi_of(s), adc, seed, RandomState{},
                                         NegativeCounts::Wrap);
             return py::make_tuple(py::bytes(reinterpret_cast<const char*>(r.pixels.data()), r.pixels.size() * 2),
                                   r.photons, r.overloads);
           })
      .def(
          "extract_table",
          [](const AmorphousSetup& s, const LastEvaluation& last, py::object measured,
             const std::vector<std::uint16_t>& ignore, double adc, double gain, double mult) {
            const py::buffer_info img = image_of(measured, s, false, "measured");
            ExtractedTable t = extract_stol_table(s, last, pixels(img), ignore, adc, gain, mult);
            py::dict d;
            d["text"] = t.text, d["messages"] = t.messages, d["lines"] = t.lines;
            d["last_bin_count"] = t.last_bin_count;
            return d;
          },
          py::arg("last"), py::arg("measured"), py::arg("ignore"), py::arg("adc"), py::arg("gain"), py::arg("mult"));

  m.def(
      "prepare_amorphous",
      [](const Options& opt, const AmorphousOptions& a, const std::vector<double>& stol, const std::vector<double>& F,
         double mult, const std::vector<double>& source_xyz, const std::vector<double>& source_weight,
         const std::vector<double>& source_lambda) {
        SourceList sources;
        sources.xyz = source_xyz, sources.weight = source_weight, sources.lambda = source_lambda;
        auto s = std::make_shared<AmorphousSetup>(prepare_amorphous(opt, a, pad_stol_table(stol, F, mult), sources));
        return s;
      },
      py::arg("options"), py::arg("amorphous"), py::arg("stol"), py::arg("F"), py::arg("mult"),
      py::arg("source_xyz") = std::vector<double>{}, py::arg("source_weight") = std::vector<double>{},
      py::arg("source_lambda") = std::vector<double>{},
      "Set up an amorphous run: the table rows (stol as in the file, F NaN where missing) and its stol\n"
      "multiplier to 1/m, and optional -sourcefile rows (NaN where missing).");
}

}  // namespace nanobragg::bindings
