/// What the binding files share about renders: the cancel/progress controls, the float32 image
/// owned by C++ that the command line renders into, and the statistics dict every backend returns.
#pragma once
#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "nanobragg/core/schedule.hpp"

namespace nanobragg::bindings {

/// Cancel flag and progress counter shared between Python and a running render.
struct RenderControls {
  std::atomic<int> cancel{0};
  std::atomic<std::int64_t> progress{0};
};

/// A float32 image owned by C++, shared with Python through the buffer protocol. The pixels are
/// left uninitialized on allocation (a render writes every one; 16 MB of zeros cost a few ms).
struct Image32 {
  int fpixels = 0, spixels = 0;
  std::unique_ptr<float[]> data;

  Image32(int f, int s) : fpixels(f), spixels(s), data(new float[size()]) {}
  std::size_t size() const { return std::size_t(fpixels) * spixels; }
};

/// The statistics of a render as the dict both backends return.
inline pybind11::dict render_stats_dict(const RenderStats& st) {
  pybind11::dict d;
  d["omega_sum"] = st.omega_sum;
  d["rendered"] = st.rendered;
  d["interpolation_switched_off"] = st.interpolation_switched_off;
  d["cancelled"] = st.cancelled;
  d["switch_hkl"] = pybind11::make_tuple(st.switch_hkl[0], st.switch_hkl[1], st.switch_hkl[2]);
  return d;
}

}  // namespace nanobragg::bindings
