/// noisify's detector chain for Python: the float input (read from a file, or any float32 buffer
/// such as a NumPy array), the parameters, and a result that writes its images atomically or shows
/// them to NumPy without a copy. The command line never needs NumPy.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#if defined(__unix__)
#include <sys/mman.h>
#endif

#include "common.hpp"
#include "nanobragg/io/errors.hpp"
#include "nanobragg/io/images.hpp"
#include "nanobragg/noisify/detector_response.hpp"

namespace nanobragg::bindings {

namespace {
using namespace nanobragg::noisify;

/// A raw float32 image as noisify reads it (1-D, raster order), shared through the buffer protocol.
/// Not zero-filled before the read (a second pass over the whole image): only the pixels the file
/// does not reach are set. A large one lives in an anonymous mapping populated at once: faulting
/// 16 MB in page by page during the read costs ~10 ms more on the hosts measured.
struct FloatPixels {
  float* values = nullptr;
  std::size_t size = 0;
  bool mapped = false;

  explicit FloatPixels(std::size_t n) : size(n) {
#if defined(MAP_POPULATE)
    if (n * sizeof(float) >= (std::size_t(1) << 20)) {
      void* p = mmap(nullptr, n * sizeof(float), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                     -1, 0);
      if (p != MAP_FAILED) {
        values = static_cast<float*>(p), mapped = true;
        return;
      }
    }
#endif
    values = new float[n];
  }
  ~FloatPixels() {
#if defined(MAP_POPULATE)
    if (mapped) {
      munmap(values, size * sizeof(float));
      return;
    }
#endif
    delete[] values;
  }
  FloatPixels(const FloatPixels&) = delete;
  FloatPixels& operator=(const FloatPixels&) = delete;
};

/// noisify.c's fread(floatimage, P, sizeof(float), file): up to 4P bytes, the rest left 0 (N14).
std::unique_ptr<FloatPixels> read_floats(const std::string& path, std::int64_t pixels) {
  auto out = std::make_unique<FloatPixels>(std::size_t(pixels));
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError("float image '" + path + "': cannot open it");
  char* bytes = reinterpret_cast<char*>(out->values);
  const std::size_t wanted = out->size * sizeof(float);
  const std::size_t got = std::fread(bytes, 1, wanted, f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw InputError("float image '" + path + "': read error after " + std::to_string(got) + " bytes");
  std::memset(bytes + got, 0, wanted - got);
  return out;
}

py::dict psf_dict(const PsfReport& r) {
  py::dict d;
  d["applied"] = r.applied, d["auto_radius"] = r.auto_radius, d["max_input"] = r.max_input;
  d["no_photons"] = r.no_photons, d["auto_selected"] = r.auto_selected, d["kernel_radius"] = r.kernel_radius, d["lost_photons"] = r.lost_photons;
  d["edge_wrapped"] = r.edge_wrapped;
  return d;
}

template <typename T>
const std::vector<T>& nonempty(const std::vector<T>& v, const char* what) {
  if (v.empty()) throw std::invalid_argument(std::string("this run has no ") + what + " image");
  return v;
}

/// One output file of a run: which image (int16, int32, noise16, noise32, pgm, or header: the C's
/// -bits 8 file, a header and no pixels, N10), where, and the header bytes before the pixels.
struct FileRequest {
  std::string kind, path, header;
};

template <typename T>
StagedFile staged_pixels(const FileRequest& f, const std::vector<T>& v) {
  return StagedFile(f.path, f.header, v.data(), v.size() * sizeof(T));
}

/// The file of one image of r under a temporary name (plain C++: callable without the GIL).
StagedFile stage(const ResponseImages& r, const FileRequest& f) {
  if (f.kind == "int16") return staged_pixels(f, nonempty(r.int16, "16-bit noiseless"));
  if (f.kind == "int32") return staged_pixels(f, nonempty(r.int32, "32-bit noiseless"));
  if (f.kind == "noise16") return staged_pixels(f, nonempty(r.noise16, "16-bit noise"));
  if (f.kind == "noise32") return staged_pixels(f, nonempty(r.noise32, "32-bit noise"));
  if (f.kind == "pgm") {  // pgm_file's header, then the pixels from where they are
    return StagedFile(f.path, pgm_file({}, r.width, r.height, 1.0), r.pgm.data(), r.pgm.size());
  }
  if (f.kind == "header") return StagedFile(f.path, f.header, nullptr, 0);
  throw std::invalid_argument("unknown image kind '" + f.kind + "'");
}

std::vector<FileRequest> file_requests(const py::object& files) {
  std::vector<FileRequest> out;
  if (files.is_none()) return out;
  for (const py::handle item : files) {
    const auto t = item.cast<py::tuple>();
    out.push_back({t[0].cast<std::string>(), t[1].cast<std::string>(), std::string(t[2].cast<py::bytes>())});
  }
  return out;
}

// A zero-copy (height, width) NumPy view of one of the result's arrays, keeping the result alive.
template <typename T>
py::array_t<T> view(const std::shared_ptr<ResponseImages>& r, const std::vector<T>& v) {
  py::capsule owner(new std::shared_ptr<ResponseImages>(r),
                    [](void* p) { delete static_cast<std::shared_ptr<ResponseImages>*>(p); });
  return py::array_t<T>({py::ssize_t(r->height), py::ssize_t(r->width)}, v.data(), owner);
}

}  // namespace

void add_noisify(py::module_& m) {
  py::enum_<PsfType>(m, "PsfType", "noisify's point-spread function type")
      .value("none", PsfType::none)
      .value("gauss", PsfType::gauss)
      .value("fiber", PsfType::fiber);

  py::class_<ResponseParams>(m, "ResponseParams", "noisify's detector-chain settings (native units: ADU, photons).")
      .def(py::init<>())
      .def_readwrite("photon_factor", &ResponseParams::photon_factor)
      .def_readwrite("gain", &ResponseParams::gain)
      .def_readwrite("adc", &ResponseParams::adc)
      .def_readwrite("readout", &ResponseParams::readout)
      .def_readwrite("flicker", &ResponseParams::flicker)
      .def_readwrite("calibration", &ResponseParams::calibration)
      .def_readwrite("calib_idum", &ResponseParams::calib_idum)
      .def_property("psf_type", [](const ResponseParams& p) { return p.psf.type; },
                    [](ResponseParams& p, PsfType t) { p.psf.type = t; })
      .def_property("psf_fwhm_pixels", [](const ResponseParams& p) { return p.psf.fwhm_pixels; },
                    [](ResponseParams& p, double w) { p.psf.fwhm_pixels = w; })
      .def_property("psf_radius", [](const ResponseParams& p) { return p.psf.user_radius; },
                    [](ResponseParams& p, int r) { p.psf.user_radius = r; })
      .def_readwrite("bits", &ResponseParams::bits)
      .def_property("corrected", [](const ResponseParams& p) { return p.corrected; },
                    [](ResponseParams& p, bool c) { p.corrected = c, p.psf.corrected = c; })
      .def_readwrite("binning", &ResponseParams::binning)
      .def_readwrite("saturation", &ResponseParams::saturation)
      .def_readwrite("hot_fraction", &ResponseParams::hot_fraction)
      .def_readwrite("dead_fraction", &ResponseParams::dead_fraction)
      .def_readwrite("hot_seed", &ResponseParams::hot_seed)
      .def_readwrite("dead_seed", &ResponseParams::dead_seed)
      .def_readwrite("threads", &ResponseParams::threads);

  py::class_<FloatPixels>(m, "FloatPixels", py::buffer_protocol(), "A raw float32 image (1-D) owned by C++.")
      .def("__len__", [](const FloatPixels& f) { return f.size; })
      .def_buffer([](FloatPixels& f) {
        return py::buffer_info(f.values, sizeof(float), py::format_descriptor<float>::format(), 1,
                               {py::ssize_t(f.size)}, {py::ssize_t(sizeof(float))});
      });
  m.def("noisify_read_floats", &read_floats, py::arg("path"), py::arg("pixels"),
        "Read up to 4*pixels bytes of native float32 as noisify.c does (missing pixels stay 0).");

  m.def(
      "noisify_scan",
      [](const py::buffer& input) {
        const py::buffer_info b = input.request();
        if (b.format != py::format_descriptor<float>::format() || b.itemsize != 4) {
          throw py::type_error("input must be a float32 buffer");
        }
        InputScan s;
        {
          py::gil_scoped_release release;
          s = scan_input(static_cast<const float*>(b.ptr), std::int64_t(b.size));
        }
        py::dict d;
        d["max_I"] = s.max_I, d["negatives"] = s.negatives, d["nonfinite"] = s.nonfinite;
        d["below_001"] = s.below_001;
        return d;
      },
      py::arg("input"), "max, negative values (raster order), non-finite and (0, 0.01) counts of a float image.");

  py::class_<ResponseImages, std::shared_ptr<ResponseImages>>(m, "ResponseImages", "The images of one noisify run.")
      .def_readonly("width", &ResponseImages::width)
      .def_readonly("height", &ResponseImages::height)
      .def_property_readonly("noiseless_psf", [](const ResponseImages& r) { return psf_dict(r.noiseless_psf); })
      .def_property_readonly("noise_psf", [](const ResponseImages& r) { return psf_dict(r.noise_psf); })
      .def_readonly("photons_before_psf", &ResponseImages::photons_before_psf)
      .def_readonly("photons", &ResponseImages::photons)
      .def_readonly("overloads", &ResponseImages::overloads)
      .def_readonly("wrapped_noiseless", &ResponseImages::wrapped_noiseless)
      .def_readonly("wrapped_noise", &ResponseImages::wrapped_noise)
      .def_readonly("clipped32", &ResponseImages::clipped32)
      .def_readonly("poisson_gaussian", &ResponseImages::poisson_gaussian)
      .def_readonly("first_mean_minus1", &ResponseImages::first_mean_minus1)
      .def_readonly("hot", &ResponseImages::hot)
      .def_readonly("dead", &ResponseImages::dead)
      .def("write", [](const ResponseImages& r, const std::string& kind, const std::string& path, const py::bytes& header) {
        const FileRequest f{kind, path, header};
        try {
          py::gil_scoped_release release;
          stage(r, f).commit();
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      }, py::arg("kind"), py::arg("path"), py::arg("header"),
         "Write header + one image (int16, int32, noise16, noise32, pgm, header) through a temporary file.")
      .def("array", [](const std::shared_ptr<ResponseImages>& r, const std::string& kind) -> py::object {
        if (kind == "int16") return view(r, nonempty(r->int16, "16-bit noiseless"));
        if (kind == "int32") return view(r, nonempty(r->int32, "32-bit noiseless"));
        if (kind == "noise16") return view(r, nonempty(r->noise16, "16-bit noise"));
        if (kind == "noise32") return view(r, nonempty(r->noise32, "32-bit noise"));
        if (kind == "pgm") return view(r, r->pgm);
        throw py::value_error("unknown image kind '" + kind + "'");
      }, py::arg("kind"), "A read-only-by-convention NumPy view (height, width) of one image.");

  m.def(
      "noisify_response",
      [](const py::buffer& input, int width, int height, const ResponseParams& params, long seed, bool with_noise,
         const py::object& noiseless_files, const py::object& noise_files) {
        const py::buffer_info b = input.request();
        if (b.format != py::format_descriptor<float>::format() || b.itemsize != 4) {
          throw py::type_error("input must be a float32 buffer (e.g. a NumPy float32 array)");
        }
        py::ssize_t expect = 4;
        for (py::ssize_t d = b.ndim; d-- > 0;) {
          if (b.shape[d] != 1 && b.strides[d] != expect) throw py::type_error("input must be C-contiguous");
          expect *= b.shape[d];
        }
        if (width <= 0 || height <= 0 || b.size != py::ssize_t(width) * height) {
          throw py::value_error("input has " + std::to_string(b.size) + " pixels, not " + std::to_string(width) +
                                " x " + std::to_string(height));
        }
        const std::vector<FileRequest> noiseless_requests = file_requests(noiseless_files);
        const std::vector<FileRequest> noise_requests = file_requests(noise_files);
        auto r = std::make_shared<ResponseImages>();
        try {
          py::gil_scoped_release release;
          // The noiseless files are staged as soon as their images exist (beside the draws), the
          // noise files after them; all are put in place only once every one is written.
          std::vector<StagedFile> staged;
          NoiselessDone stage_noiseless;
          if (!noiseless_requests.empty()) {
            stage_noiseless = [&](const ResponseImages& done) {
              for (const FileRequest& f : noiseless_requests) staged.push_back(stage(done, f));
            };
          }
          *r = detector_response(static_cast<const float*>(b.ptr), width, height, params, seed, with_noise,
                                 stage_noiseless);
          for (const FileRequest& f : noise_requests) staged.push_back(stage(*r, f));
          for (StagedFile& f : staged) f.commit();
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
        return r;
      },
      py::arg("input"), py::arg("width"), py::arg("height"), py::arg("params"), py::arg("seed"),
      py::arg("with_noise") = true, py::arg("noiseless_files") = py::none(), py::arg("noise_files") = py::none(),
      "Run noisify's chain on a float32 image (width fast, height slow). seed: the noise stream as the\n"
      "C stores it (-n for -seed n). with_noise=False is -nonoise. noiseless_files and noise_files:\n"
      "(kind, path, header bytes) of files to write, as ResponseImages.write takes them; the noiseless\n"
      "ones are written while the draws run, and none is in place unless all are written.");
}

}  // namespace nanobragg::bindings
