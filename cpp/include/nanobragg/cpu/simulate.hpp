/// CPU (OpenMP) entry point: renders a whole image into caller-owned memory.
#pragma once
#include <atomic>
#include <cstdint>

#include "nanobragg/core/params.hpp"
#include "nanobragg/core/schedule.hpp"  // for RenderStats

namespace nanobragg::cpu {

/// Controls a caller may share with a running render (both may be null).
struct RenderControl {
  std::atomic<int>* cancel = nullptr;             // set non-zero to stop early
  std::atomic<std::int64_t>* progress = nullptr;  // pixels done, for a progress bar
};

/// Renders every pixel of p into out (row-major, slow outer); pixels outside the ROI or masked
/// are set to 0. Threads: <= 0 means OpenMP's default.
template <typename Real, typename Out>
RenderStats render(const SimParams<Real>& p, Out* out, int threads = 0, RenderControl control = {});

}  // namespace nanobragg::cpu
