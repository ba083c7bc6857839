/// The CUDA kernels of nonBragg's amorphous model: one thread per pixel around core/amorphous.hpp
/// amorphous_pixel() (no second copy of the physics), and the per-row solid-angle sums. Compiled
/// with --fmad=false (cmake: nanobragg_cuda_amorphous), as the CPU build's -ffp-contract=off.
#include <cstdint>

#include "nanobragg/core/amorphous.hpp"
#include "nanobragg/cuda/amorphous.hpp"

namespace nanobragg::cuda::detail {

namespace {

constexpr int kBlock = 128;

__device__ inline int last_column(const AmorphousParams<double>& p) {
  return p.roi_xmax < p.fpixels - 1 ? p.roi_xmax : p.fpixels - 1;
}

/// Pixel idx (row-major s * fpixels + f) from an unknown walk state: where its look-ups did not
/// tie with a table point the result is the C's whatever the state (amorphous.hpp
/// monotonic_nearest); where one did, the row is marked for the CPU's in-order pass.
__global__ void __launch_bounds__(kBlock) amorphous_kernel(const AmorphousParams<double> p, AmorphousDeviceOut out) {
  const std::int64_t n = std::int64_t(p.fpixels) * p.spixels;
  const std::int64_t idx = std::int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (idx >= n) return;
  const int f = int(idx % p.fpixels), s = int(idx / p.fpixels);
  if (!amorphous_in_roi(p, f, s)) {
    out.pixel_omega[idx] = 0.0;
    return;
  }
  WalkState walk{0, 0, 0, 1};
  const AmorphousPixel<double> px = amorphous_pixel(p, f, s, walk);
  out.image[idx] = float(px.value);  // the C stores the double sum once, as a float
  out.pixel_omega[idx] = px.omega_sum;
  if (walk.unknown_used) out.row_unknown[s] = 1;  // every writer stores the same value
  if (f == last_column(p)) out.row_nearest[s] = walk.nearest;
}

/// One thread per row: the solid angles summed pixel by pixel along the row, as the CPU sums
/// them, so the console's total is the CPU's to the last bit.
__global__ void row_omega_kernel(const AmorphousParams<double> p, AmorphousDeviceOut out) {
  const int s = int(blockIdx.x) * kBlock + int(threadIdx.x);
  if (s >= p.spixels) return;
  double sum = 0.0;
  if (s >= p.roi_ymin && s <= p.roi_ymax) {
    const std::int64_t row = std::int64_t(s) * p.fpixels;
    for (int f = p.roi_xmin > 0 ? p.roi_xmin : 0; f <= last_column(p); ++f) sum += out.pixel_omega[row + f];
  }
  out.row_omega[s] = sum;
}

}  // namespace

void launch_amorphous(const AmorphousParams<double>& p, const AmorphousDeviceOut& out, void* stream) {
  const std::int64_t n = std::int64_t(p.fpixels) * p.spixels;
  if (n <= 0) return;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  amorphous_kernel<<<static_cast<unsigned int>((n + kBlock - 1) / kBlock), kBlock, 0, s>>>(p, out);
  row_omega_kernel<<<static_cast<unsigned int>((p.spixels + kBlock - 1) / kBlock), kBlock, 0, s>>>(p, out);
}

}  // namespace nanobragg::cuda::detail
