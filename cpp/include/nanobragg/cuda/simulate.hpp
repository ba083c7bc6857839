/// CUDA entry points: DeviceSimulator mirrors one run object's (simulator.hpp) pixel-independent
/// tables in device memory and renders whole images into caller-owned device arrays. Includes no
/// CUDA header, so the bindings and any other host code compile with the host compiler alone.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "nanobragg/core/params.hpp"    // for SimParams (detail launchers)
#include "nanobragg/core/schedule.hpp"  // for RenderStats

namespace nanobragg {
class Simulator;  // simulator.hpp
}

namespace nanobragg::cuda {

/// A CUDA stream as an opaque handle (a cudaStream_t, or the runtime's special values
/// 1 = legacy default stream and 2 = per-thread default stream, as in __cuda_array_interface__).
using StreamHandle = std::uintptr_t;
constexpr StreamHandle kLegacyStream = 1;
constexpr StreamHandle kPerThreadStream = 2;

/// What the runtime reports about devices; never throws, also without a driver.
struct RuntimeStatus {
  int device_count = 0;
  int runtime_version = 0;  // e.g. 13000
  int driver_version = 0;   // 0 when no driver is loaded
  std::string error;        // empty when device_count > 0, else why not (cudaGetErrorString)
};
RuntimeStatus runtime_status();

/// Name and compute capability ("NVIDIA H100 80GB HBM3 (sm_90)") of a device; throws std::runtime_error.
std::string device_description(int device);

/// One run object on one device. The F table and the mask are copied to the device once; the
/// source and orientation tables are copied again only when the run object's revision of them
/// changed (after Simulator::update), checked at every render, so a DeviceSimulator never renders
/// a stale state. It follows a change of the detector size too: its size is the run object's
/// current one, and the device tables and render_to_host's image grow when the detector does
/// (the mask is new then: its revision changed). The run object must outlive it. Methods make the simulator's device current for
/// their duration and restore the caller's current device afterwards. One render at a time per
/// simulator: the statistics buffer is shared by its renders. Progress counting, cancellation and
/// thread counts do not apply on the GPU (a render runs to its end).
class DeviceSimulator {
 public:
  /// single: float32 kernel, else float64. device < 0: the calling thread's current device.
  /// Throws std::runtime_error when no device is usable (no driver, no GPU) and
  /// std::invalid_argument on bad arguments.
  DeviceSimulator(Simulator& sim, bool single, int device = -1);
  ~DeviceSimulator();
  DeviceSimulator(const DeviceSimulator&) = delete;
  DeviceSimulator& operator=(const DeviceSimulator&) = delete;

  /// Enqueues the render of every pixel into out (device memory on this simulator's device,
  /// row-major (spixels, fpixels)) on stream, and returns without waiting. Pixels outside the ROI or
  /// masked are set to 0. Out is float or double. producer: a stream whose pending work on out must
  /// finish first (the 'stream' entry of __cuda_array_interface__), 0 for none. Throws
  /// std::invalid_argument if out is not device memory of this device.
  template <typename Out>
  void render(Out* out, StreamHandle stream, StreamHandle producer = 0);

  /// Waits for the latest render to finish and returns its statistics.
  RenderStats wait();

  /// Renders into host memory: a temporary device image, the render, then the one copy back
  /// (the CLI's path; noise is drawn on the host from the copied image). Waits.
  template <typename Out>
  RenderStats render_to_host(Out* host_out);

  int device() const;
  bool single() const;
  int fpixels() const;  // the run object's current detector size
  int spixels() const;
  std::size_t device_bytes() const;  // device memory held for the tables

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {

/// Per-render accumulators in device memory, written by the kernels with atomics.
struct DeviceStats {
  double omega_sum;
  unsigned long long rendered;
  unsigned long long first_switch;  // lowest pixel index that switched interpolation off
  double switch_hkl[3];             // h, k, l of that pixel's switching evaluation (pass 2)
};
constexpr unsigned long long kNoSwitch = ~0ull;

/// Enqueue one pass of the render kernel (defined in simulate.cu, next to the kernel, because RDC
/// is off). Pass 1 renders every pixel with p.interpolate and records statistics; pass 2
/// re-renders, with interpolation off, every pixel after stats->first_switch (none if kNoSwitch)
/// and records the h, k, l at which that pixel switched.
template <typename Real, typename Out>
void launch_render_pass(const SimParams<Real>& p, Out* out, std::int64_t first_pixel, DeviceStats* stats,
                        int pass, void* stream);

}  // namespace detail

}  // namespace nanobragg::cuda
