/// File I/O and the images derived from the float image, with no NumPy needed on the command-line
/// path: structure-factor tables are built in C++ only (from files or arrays) and shared, never
/// copied, with NumPy through the buffer protocol; images are C++-owned buffers too.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>
#include <cstring>
#include <future>
#include <stdexcept>

#include "arrays.hpp"
#include "common.hpp"
#include "nanobragg/cpu/simulate.hpp"
#include "nanobragg/io/errors.hpp"
#include "nanobragg/io/hkl.hpp"
#include "nanobragg/io/images.hpp"
#include "nanobragg/simulator.hpp"
#include "render.hpp"

namespace nanobragg::bindings {

namespace {
Roi roi_of(const Prepared& p) { return {p.det.roi_xmin, p.det.roi_xmax, p.det.roi_ymin, p.det.roi_ymax}; }

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

  py::class_<FTableData, std::shared_ptr<FTableData>>(
      m, "FTableData", py::buffer_protocol(),
      "A structure-factor table as nanoBragg holds it (padded by one plane per axis, l fastest), built in\n"
      "C++ and shared, never copied: numpy.asarray(table) is a read-only view of its values.")
      .def_property_readonly("bounds", [](const FTableData& t) {
        return py::make_tuple(t.h_min, t.h_max, t.k_min, t.k_max, t.l_min, t.l_max);
      }, "h_min, h_max, k_min, k_max, l_min, l_max.")
      .def_property_readonly("hkls", [](const FTableData& t) { return t.hkls; }, "The C's count; 0 = no table.")
      .def_property_readonly("values", [](const py::object& self) -> py::object {
        if (py::cast<const FTableData&>(self).values.empty()) return py::none();
        return py::module_::import("numpy").attr("asarray")(self);
      }, "The values as a read-only float64 (h, k, l) NumPy view (no copy), or None for no table.")
      .def_buffer([](FTableData& t) {
        const py::ssize_t nl = t.l_max - t.l_min + 2, nk = t.k_max - t.k_min + 2, nh = t.h_max - t.h_min + 2;
        const py::ssize_t d = sizeof(double);
        return py::buffer_info(t.values.data(), d, py::format_descriptor<double>::format(), 3, {nh, nk, nl},
                               {d * nk * nl, d * nl, d}, /*readonly=*/true);
      })
      .def_static("empty", [] { return std::make_shared<FTableData>(); }, "No table (hkls 0).")
      .def(py::pickle(
          [](const FTableData& t) {  // for worker processes: the one copy a process boundary needs
            return py::make_tuple(py::make_tuple(t.h_min, t.h_max, t.k_min, t.k_max, t.l_min, t.l_max), t.hkls,
                                  py::bytes(reinterpret_cast<const char*>(t.values.data()),
                                            t.values.size() * sizeof(double)));
          },
          [](const py::tuple& state) {
            const auto b = py::cast<std::array<int, 6>>(state[0]);
            auto t = std::make_shared<FTableData>();
            t->h_min = b[0], t->h_max = b[1], t->k_min = b[2], t->k_max = b[3], t->l_min = b[4], t->l_max = b[5];
            t->hkls = py::cast<std::int64_t>(state[1]);
            const std::string raw = py::cast<std::string>(state[2]);
            t->values.resize(raw.size() / sizeof(double));
            std::memcpy(t->values.data(), raw.data(), t->values.size() * sizeof(double));
            return t;
          }))
      .def_static(
          "from_arrays",
          [](const py::array_t<double, py::array::c_style | py::array::forcecast>& h,
             const py::array_t<double, py::array::c_style | py::array::forcecast>& k,
             const py::array_t<double, py::array::c_style | py::array::forcecast>& l,
             const py::array_t<double, py::array::c_style | py::array::forcecast>& F, double default_F) {
            const py::ssize_t n = F.size();
            if (h.size() != n || k.size() != n || l.size() != n) {
              throw py::value_error("h, k, l and F must have the same length, got " + std::to_string(h.size()) +
                                    " indices and " + std::to_string(n) + " values");
            }
            std::vector<double> rows(4 * std::size_t(n));
            for (py::ssize_t i = 0; i < n; ++i) {
              rows[4 * i] = h.data()[i], rows[4 * i + 1] = k.data()[i], rows[4 * i + 2] = l.data()[i];
              rows[4 * i + 3] = F.data()[i];
            }
            py::gil_scoped_release release;
            try {
              return dense_table(rows, default_F);
            } catch (const std::invalid_argument& e) {
              py::gil_scoped_acquire hold;
              throw py::value_error(e.what());
            }
          },
          py::arg("h"), py::arg("k"), py::arg("l"), py::arg("F"), py::arg("default_F") = 0.0,
          "The dense table of reflections h, k, l (integers), F, as nanoBragg builds it from -hkl: unlisted\n"
          "indices inside the box hold default_F, a repeated index keeps its last F.");

  m.def("read_hkl", &read_hkl, py::arg("path"), py::arg("default_F") = 0.0,
        "Read an 'h k l F' text file the way nanoBragg.c does; raises InputError for malformed files.");
  m.def("read_fdump", &read_fdump, py::arg("path"), "Read an Fdump cache.");
  m.def("write_fdump", &write_fdump, py::arg("path"), py::arg("table"), "Write an Fdump cache atomically.");
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
      "write_outputs",
      [](const Image32& im, const Simulator& sim, const py::dict& spec) {
        const Prepared& p = sim.prepared();
        const std::uint16_t* mask = sim.mask();
        if (im.fpixels != p.det.fpixels || im.spixels != p.det.spixels) throw py::value_error("image and detector differ in size");
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
        const ImageStats st = image_stats(img, f, s, roi, mask);
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
        if (!dump_path.empty() && p.F && p.F->hkls) {
          try {
            dump_staged.emplace(staged_fdump(dump_path, *p.F));
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
      py::arg("image"), py::arg("simulator"), py::arg("spec"),
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
