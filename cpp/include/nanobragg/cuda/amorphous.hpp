/// nonBragg's amorphous model on a CUDA device: one thread per pixel around core/amorphous.hpp
/// amorphous_pixel(), the physics the CPU backend runs, in float64 without FMA contraction (so the
/// image is the CPU's bit for bit where only +, -, *, / and sqrt are involved). Includes no CUDA
/// header: the bindings compile with the host compiler alone.
#pragma once
#include <cstdint>

#include "nanobragg/amorphous.hpp"

namespace nanobragg::cuda {

/// render_amorphous() (amorphous.hpp) on device (< 0: the current one) into host memory: the same
/// image and statistics. The C's look-up walk is honoured as the CPU honours it: each pixel is
/// rendered from an unknown walk state, and the rows whose look-ups tied with a table point
/// (then the result depends on the state) are rendered again in order on the CPU. Throws
/// std::invalid_argument for a table whose stol column goes back without -corrected (its
/// look-up is serial by nature: use the CPU) and std::runtime_error when no device is usable.
AmorphousStats render_amorphous_on_device(const AmorphousSetup& setup, float* image, bool add, int device = -1);

namespace detail {

/// Device pointers of one render's per-pixel and per-row results (amorphous.cu).
struct AmorphousDeviceOut {
  float* image;          // fpixels*spixels, zeroed before the launch
  double* pixel_omega;   // fpixels*spixels: each pixel's solid-angle sum
  double* row_omega;     // spixels: the row sums, added in the CPU's order
  int* row_unknown;      // spixels, zeroed: 1 where a look-up depended on the walk state coming in
  int* row_nearest;      // spixels: the walk's index after the row's last pixel
};

/// Enqueue the render and the row sums on stream (p's pointers are device copies).
void launch_amorphous(const AmorphousParams<double>& p, const AmorphousDeviceOut& out, void* stream);

}  // namespace detail

}  // namespace nanobragg::cuda
