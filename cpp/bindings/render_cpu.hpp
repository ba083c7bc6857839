/// The CPU render entry the binding files share: render controls (cancel flag, progress) and
/// Ctrl-C handling while the GIL is released.
#pragma once
#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>

#include "nanobragg/cpu/simulate.hpp"
#include "nanobragg/setup.hpp"

namespace nanobragg::bindings {

/// Cancel flag and progress counter shared between Python and a running render.
struct RenderControls {
  std::atomic<int> cancel{0};
  std::atomic<std::int64_t> progress{0};
};

/// Renders p on the CPU into out (Out = float or double). catch_sigint (main thread only): Ctrl-C
/// raises the cancel flag instead of waiting; controls may be null. Call without the GIL.
template <typename Out>
cpu::RenderStats render_on_cpu(const Prepared& p, Out* out, const std::uint16_t* mask, bool single, int threads,
                               RenderControls* controls, bool catch_sigint);

/// The float32 image the command line writes (same as render_on_cpu<float>).
inline cpu::RenderStats render_float_image(const Prepared& p, float* out, const std::uint16_t* mask, bool single,
                                           int threads, RenderControls* controls, bool catch_sigint) {
  return render_on_cpu<float>(p, out, mask, single, threads, controls, catch_sigint);
}

/// The statistics of a render as the dict both backends return.
inline pybind11::dict render_stats_dict(const cpu::RenderStats& st) {
  pybind11::dict d;
  d["omega_sum"] = st.omega_sum;
  d["rendered"] = st.rendered;
  d["interpolation_switched_off"] = st.interpolation_switched_off;
  d["cancelled"] = st.cancelled;
  d["switch_hkl"] = pybind11::make_tuple(st.switch_hkl[0], st.switch_hkl[1], st.switch_hkl[2]);
  return d;
}

}  // namespace nanobragg::bindings
