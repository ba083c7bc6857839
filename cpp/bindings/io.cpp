/// File I/O and the images derived from the float image, with no NumPy needed on the command-line
/// path: structure-factor tables are opaque objects, images are C++-owned buffers (buffer protocol).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <future>
#include <optional>

#include "arrays.hpp"
#include "common.hpp"
#include "nanobragg/cpu/simulate.hpp"
#include "nanobragg/io/errors.hpp"
#include "nanobragg/io/hkl.hpp"
#include "nanobragg/io/images.hpp"
#include "nanobragg/setup.hpp"
#include "nanobragg/sim_params.hpp"
#include "render_cpu.hpp"

namespace nanobragg::bindings {

namespace {
/// A float32 image owned by C++, shared with Python through the buffer protocol. The pixels are
/// left uninitialized on allocation (a render writes every one; 16 MB of zeros cost a few ms).
struct Image32 {
  int fpixels = 0, spixels = 0;
  std::unique_ptr<float[]> data;

  Image32(int f, int s) : fpixels(f), spixels(s), data(new float[size()]) {}
  std::size_t size() const { return std::size_t(fpixels) * spixels; }
};

Roi roi_of(const Prepared& p) { return {p.det.roi_xmin, p.det.roi_xmax, p.det.roi_ymin, p.det.roi_ymax}; }

/// A mask given as bytes (native uint16, spixels x fpixels) or None.
std::optional<std::vector<std::uint16_t>> mask_of(const py::object& mask, const Prepared& p) {
  if (mask.is_none()) return std::nullopt;
  const std::string raw = py::cast<std::string>(py::bytes(mask));
  const std::size_t n = std::size_t(p.det.fpixels) * p.det.spixels;
  if (raw.size() != 2 * n) {
    throw py::value_error("mask has " + std::to_string(raw.size() / 2) + " pixels; the detector has " + std::to_string(n));
  }
  std::vector<std::uint16_t> m(n);
  std::memcpy(m.data(), raw.data(), raw.size());
  return m;
}

py::dict stats_dict(const ImageStats& s) {
  py::dict d;
  d["max_I"] = s.max_I, d["max_index"] = s.max_index, d["mean"] = s.mean, d["rms"] = s.rms;
  d["rmsd"] = s.rmsd, d["rendered"] = s.rendered;
  return d;
}
}  // namespace

void add_io(py::module_& m) {
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const InputError& err) {
      PyErr_SetString(input_error.ptr(), err.what());
    }
  });

  py::class_<FTableData>(m, "FTableData", "A structure-factor table (padded by one plane per axis, l fastest).")
      .def_property_readonly("bounds", [](const FTableData& t) {
        return py::make_tuple(t.h_min, t.h_max, t.k_min, t.k_max, t.l_min, t.l_max);
      })
      .def_property_readonly("hkls", [](const FTableData& t) { return t.hkls; })
      .def_static("from_bytes", [](std::array<int, 6> b, std::int64_t hkls, const py::bytes& values) {
        FTableData t;
        t.h_min = b[0], t.h_max = b[1], t.k_min = b[2], t.k_max = b[3], t.l_min = b[4], t.l_max = b[5];
        t.hkls = hkls;
        const std::string raw = values;
        const std::size_t n = std::size_t(b[1] - b[0] + 2) * (b[3] - b[2] + 2) * (b[5] - b[4] + 2);
        if (raw.size() != n * sizeof(double)) throw py::value_error("values do not match the bounds");
        t.values.resize(n);
        std::memcpy(t.values.data(), raw.data(), raw.size());
        return t;
      }, py::arg("bounds"), py::arg("hkls"), py::arg("values"), "A table from its bounds and native doubles.")
      .def("values_bytes", [](const FTableData& t) {
        return py::bytes(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(double));
      }, "The table as native doubles (a copy).");

  m.def("read_hkl", &read_hkl, py::arg("path"), py::arg("default_F") = 0.0,
        "Read an 'h k l F' text file the way nanoBragg.c does; raises InputError for malformed files.");
  m.def("read_fdump", &read_fdump, py::arg("path"), "Read an Fdump cache.");
  m.def("write_fdump", &write_fdump, py::arg("path"), py::arg("table"), "Write an Fdump cache atomically.");
  m.def("write_file_atomic", [](const std::string& path, const py::bytes& data) {
    const std::string s = data;
    write_file_atomic(path, s.data(), s.size());
  }, py::arg("path"), py::arg("data"), "Write bytes through a temporary file and a rename.");

  m.def(
      "prepare",
      [](const Options& opt, const FTableData* table, const std::vector<double>& source_xyz,
         const std::vector<double>& source_lambda, const std::vector<double>& source_weight) {
        if (source_xyz.size() != 3 * source_lambda.size()) throw py::value_error("source_xyz needs 3 values per source");
        SourceList sources{source_xyz, source_lambda, source_weight};
        try {
          return prepare(opt, table ? *table : FTableData{}, sources);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("options"), py::arg("table") = nullptr, py::arg("source_xyz") = std::vector<double>{},
      py::arg("source_lambda") = std::vector<double>{}, py::arg("source_weight") = std::vector<double>{},
      "Derive detector, sampling, crystal, sources and orientations from options, a structure-factor\n"
      "table (or None) and the -sourcefile rows (positions, 3 per source, and wavelengths; empty to\n"
      "generate sources from divergence and dispersion).");

  py::class_<Image32>(m, "Image32", py::buffer_protocol(), "A float32 image (spixels, fpixels) owned by C++.")
      .def_readonly("fpixels", &Image32::fpixels)
      .def_readonly("spixels", &Image32::spixels)
      .def_static("from_array", [](const py::object& a) {
        auto arr = readonly_array<float>(a, "image");
        if (arr.ndim() != 2) throw py::type_error("image must be 2-D");
        auto im = std::make_unique<Image32>(int(arr.shape(1)), int(arr.shape(0)));
        std::copy(arr.data(), arr.data() + arr.size(), im->data.get());
        return im;
      }, py::arg("array"), "A copy of a float32 (spixels, fpixels) NumPy array.")
      .def_buffer([](Image32& im) {
        return py::buffer_info(im.data.get(), sizeof(float), py::format_descriptor<float>::format(), 2,
                               {py::ssize_t(im.spixels), py::ssize_t(im.fpixels)},
                               {py::ssize_t(sizeof(float)) * im.fpixels, py::ssize_t(sizeof(float))});
      });

  m.def(
      "render_image32",
      [](const Prepared& p, const py::object& mask, const std::string& precision, int threads, bool catch_sigint,
         RenderControls* controls) {
        auto mask_data = mask_of(mask, p);
        if (precision != "double" && precision != "single") {
          throw py::value_error("precision must be 'double' or 'single', got '" + precision + "'");
        }
        auto im = std::make_unique<Image32>(p.det.fpixels, p.det.spixels);
        cpu::RenderStats st;
        {
          py::gil_scoped_release release;
          st = render_float_image(p, im->data.get(), mask_data ? mask_data->data() : nullptr,
                                  precision == "single", threads, controls, catch_sigint);
          // A cancelled render skipped rows: never hand out uninitialized pixels.
          if (st.cancelled) std::fill(im->data.get(), im->data.get() + im->size(), 0.0f);
        }
        return py::make_tuple(std::move(im), render_stats_dict(st));
      },
      py::arg("prepared"), py::arg("mask") = py::none(), py::arg("precision") = "double", py::arg("threads") = 0,
      py::arg("catch_sigint") = false, py::arg("controls") = nullptr,
      "Render into a new C++-owned float32 image; returns (Image32, stats). catch_sigint: main thread only.");

  m.def(
      "write_outputs",
      [](const Image32& im, const Prepared& p, const py::object& mask, const py::dict& spec) {
        auto mask_data = mask_of(mask, p);
        const Roi roi = roi_of(p);
        const float* img = im.data.get();
        const int f = im.fpixels, s = im.spixels;
        const std::string header = py::cast<std::string>(spec["header"]);
        const std::string floatfile = py::cast<std::string>(spec["floatfile"]);
        const std::string intfile = py::cast<std::string>(spec["intfile"]);
        const py::object pgmfile = spec["pgmfile"], noisefile = spec["noisefile"];
        const py::object dumpfile = spec.contains("dumpfile") ? py::object(spec["dumpfile"]) : py::none();
        const std::string dump_path = dumpfile.is_none() ? std::string() : py::cast<std::string>(dumpfile);
        const double adc = py::cast<double>(spec["adc"]);
        const long seed = py::cast<long>(spec["seed"]);
        const double int_req = py::cast<double>(spec["int_scale"]), pgm_req = py::cast<double>(spec["pgm_scale"]);
        py::dict out;
        py::gil_scoped_release release;
        const std::string unphysical = unphysical_image(img, im.size());
        if (!unphysical.empty()) throw InputError(unphysical + "; nothing written");
        // Every file is written to its temporary first and put in place only when all are
        // written, so a failure (a full disk, a folder as path) leaves none of them. The float
        // file goes to the kernel while the statistics and the integer image are computed.
        auto float_staged = std::async(std::launch::async, [&] {
          return StagedFile(floatfile, std::string(), img, im.size() * sizeof(float));
        });
        const ImageStats st = image_stats(img, f, s, roi, mask_data ? mask_data->data() : nullptr);
        const double iscale = int_scale(int_req, st.max_I);
        const auto ints = int_image(img, f, s, roi, iscale, adc);
        // (If this throws, the future's destructor waits for the float file, whose temporary
        // its StagedFile then removes.)
        StagedFile int_file(intfile, header, ints.data(), ints.size() * sizeof(std::uint16_t));
        StagedFile float_file = float_staged.get();  // rethrows a failed write
        std::optional<StagedFile> pgm_staged, noise_staged;
        double pscale = 0, photons = 0;
        long overloads = 0;
        if (!pgmfile.is_none()) {
          pscale = pgm_scale(pgm_req, iscale, st.rmsd);
          const std::string pgm = pgm_file(pgm_image(img, f, s, roi, pscale), f, s, pscale);
          std::string path;
          {
            py::gil_scoped_acquire hold;
            path = py::cast<std::string>(pgmfile);
          }
          pgm_staged.emplace(path, std::string(), pgm.data(), pgm.size());
        }
        if (!noisefile.is_none()) {
          const NoiseResult nz = noise_image(img, f, s, roi, adc, seed, p.rng);
          photons = nz.photons, overloads = nz.overloads;
          std::string path;
          {
            py::gil_scoped_acquire hold;
            path = py::cast<std::string>(noisefile);
          }
          noise_staged.emplace(path, header, nz.pixels.data(), nz.pixels.size() * sizeof(std::uint16_t));
        }
        // The structure-factor cache of -hkl, best effort as in the C (which warns and goes on;
        // the warning was printed with the summary).
        std::optional<StagedFile> dump_staged;
        if (!dump_path.empty() && p.F.hkls) {
          try {
            dump_staged.emplace(staged_fdump(dump_path, p.F));
          } catch (const InputError&) {
          }
        }
        if (dump_staged) {
          try {
            dump_staged->commit();
          } catch (const InputError&) {
          }
        }
        float_file.commit();  // in the C's order: (dump,) float, int, PGM, noise
        int_file.commit();
        if (pgm_staged) pgm_staged->commit();
        if (noise_staged) noise_staged->commit();
        py::gil_scoped_acquire hold;
        out["stats"] = stats_dict(st);
        out["int_scale"] = iscale, out["pgm_scale"] = pscale, out["photons"] = photons, out["overloads"] = overloads;
        return out;
      },
      py::arg("image"), py::arg("prepared"), py::arg("mask"), py::arg("spec"),
      "Statistics and the float, int, PGM and noise files (and the Fdump cache) of a rendered image, as\n"
      "nanoBragg writes them; all or none. A NaN, infinite or negative image raises InputError instead.\n"
      "spec: header (bytes), floatfile, intfile, pgmfile/noisefile/dumpfile (None to skip), adc, seed,\n"
      "int_scale, pgm_scale.");

  // The same image functions on NumPy arrays, for the Python API.
  m.def("image_stats", [](const py::object& image, std::array<int, 4> roi, const py::object& mask) {
    auto a = readonly_array<float>(image, "image");
    const std::uint16_t* mp = nullptr;
    py::array_t<std::uint16_t, py::array::c_style> marr;
    if (!mask.is_none()) marr = readonly_array<std::uint16_t>(mask, "mask"), mp = marr.data();
    return stats_dict(image_stats(a.data(), int(a.shape(1)), int(a.shape(0)), {roi[0], roi[1], roi[2], roi[3]}, mp));
  }, py::arg("image"), py::arg("roi"), py::arg("mask") = py::none());
  m.def("int_image", [](const py::object& image, std::array<int, 4> roi, double scale, double adc) {
    auto a = readonly_array<float>(image, "image");
    const auto v = int_image(a.data(), int(a.shape(1)), int(a.shape(0)), {roi[0], roi[1], roi[2], roi[3]}, scale, adc);
    py::array_t<std::uint16_t> out({a.shape(0), a.shape(1)});
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
  }, py::arg("image"), py::arg("roi"), py::arg("scale"), py::arg("adc"));
  m.def("pgm_image", [](const py::object& image, std::array<int, 4> roi, double scale) {
    auto a = readonly_array<float>(image, "image");
    const auto v = pgm_image(a.data(), int(a.shape(1)), int(a.shape(0)), {roi[0], roi[1], roi[2], roi[3]}, scale);
    py::array_t<std::uint8_t> out({a.shape(0), a.shape(1)});
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
  }, py::arg("image"), py::arg("roi"), py::arg("scale"));
  m.def("int_scale", &int_scale, py::arg("requested"), py::arg("max_I"));
  m.def("pgm_scale", &pgm_scale, py::arg("requested"), py::arg("intfile_scale"), py::arg("rmsd"));
}

}  // namespace nanobragg::bindings
