/// The _core extension module: options, set-up, the run object with its CPU renderer, file I/O
/// and the C-identical noise generator.
#include "common.hpp"
#include "nanobragg/version.hpp"
#include "nanobragg/build_info.hpp"
#include "nanobragg/cpu/simd_level.hpp"

PYBIND11_MODULE(_core, m) {
  namespace nb = nanobragg::bindings;
  m.doc() = "nanobragg-ext native core (CPU)";
  m.attr("__version__") = NANOBRAGG_VERSION;
  m.def("build_info", [] {
    pybind11::dict d;
    d["version"] = NANOBRAGG_VERSION;
    d["openmp"] = bool(NANOBRAGG_WITH_OPENMP);
    d["cuda_compiled"] = bool(NANOBRAGG_WITH_CUDA);
    d["compiler"] = NANOBRAGG_COMPILER;
    return d;
  }, "What was compiled in (version, OpenMP, CUDA, compiler).");
  m.def("simd_level", [] { return std::string(nanobragg::cpu::simd_level()); },
        "The instruction set of the CPU renderer's clone in use here: avx512f, avx2, default or baseline.");
  nb::add_options(m);
  nb::add_setup(m);
  nb::add_io(m);
  nb::add_simulator(m);
  nb::add_random(m);
  nb::add_amorphous(m);
  nb::add_noisify(m);
}
