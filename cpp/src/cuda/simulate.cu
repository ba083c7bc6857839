/// The CUDA render kernel: one thread per pixel around core/kernel.hpp pixel_intensity(), the same
/// physics the CPU backend runs (no second copy here), plus the launcher that enqueues it.
///
/// Built twice (see cmake/cuda_setup.cmake): with NANOBRAGG_CUDA_REAL_DOUBLE=1 and --fmad=false,
/// so float64 arithmetic is not contracted into FMA, like the CPU build's -ffp-contract=off; and
/// with NANOBRAGG_CUDA_REAL_DOUBLE=0 and nvcc's default FMA contraction for the float32 kernels,
/// whose results are not compared bit for bit. Even without FMA the float64 results can differ from
/// the CPU in the last bits where CUDA's sin/cos/exp/atan2 round differently from glibc's
/// (+, -, *, /, sqrt are IEEE-rounded on both).
#include <cstdint>

#include "nanobragg/core/kernel.hpp"
#include "nanobragg/core/schedule.hpp"
#include "nanobragg/cuda/simulate.hpp"

#ifndef NANOBRAGG_CUDA_REAL_DOUBLE
#error "compile simulate.cu with -DNANOBRAGG_CUDA_REAL_DOUBLE=0 or 1"
#endif

namespace nanobragg::cuda::detail {

namespace {

constexpr int kBlock = 128;  // threads per block; the kernel is register-heavy

/// Adds each thread's (omega, count) to stats with one atomic per block.
__device__ inline void block_accumulate(double omega, unsigned long long count, DeviceStats* stats) {
  for (int offset = 16; offset > 0; offset /= 2) {
    omega += __shfl_down_sync(0xffffffffu, omega, offset);
    count += __shfl_down_sync(0xffffffffu, count, offset);
  }
  __shared__ double warp_omega[kBlock / 32];
  __shared__ unsigned long long warp_count[kBlock / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_omega[warp] = omega, warp_count[warp] = count;
  __syncthreads();
  if (threadIdx.x == 0) {
    double o = 0;
    unsigned long long c = 0;
    for (int w = 0; w < kBlock / 32; ++w) o += warp_omega[w], c += warp_count[w];
    if (c) {
      atomicAdd(&stats->omega_sum, o);
      atomicAdd(&stats->rendered, c);
    }
  }
}

/// One thread per pixel, row-major index s * fpixels + f. kSecondPass: the serial-order switch-off
/// of interpolation (nanoBragg.c turns it off for the rest of the render at the first out-of-range
/// evaluation, BEHAVIOUR.md Q8): pass 1 renders everything with p.interpolate and records, with
/// atomicMin, the lowest pixel that switched it off; pass 2 re-renders every later pixel without
/// interpolation. This is exactly what cpu::render() does, so both backends agree pixel by pixel.
/// Pass 2 also evaluates the switching pixel once more, with interpolation, for the h, k, l of the
/// warning the console prints (its value is stored already).
template <typename Real, typename Out, bool kSecondPass>
__global__ void __launch_bounds__(kBlock)
    render_kernel(const SimParams<Real> p, Out* __restrict__ out, std::int64_t first_pixel, DeviceStats* stats) {
  const std::int64_t n = std::int64_t(p.fpixels) * p.spixels;
  const std::int64_t idx = std::int64_t(blockIdx.x) * kBlock + threadIdx.x;
  double omega = 0;
  unsigned long long count = 0;
  bool active = idx < n;
  bool record_switch = false;  // pass 2: this thread re-evaluates the switching pixel
  if (kSecondPass && active) {
    const unsigned long long first_switch = stats->first_switch;  // written by pass 1 (same stream)
    record_switch = first_switch != kNoSwitch && static_cast<unsigned long long>(idx) == first_switch;
    active = first_switch != kNoSwitch && static_cast<unsigned long long>(idx) >= first_switch;
  }
  if (active) {
    const int f = int(idx % p.fpixels), s = int(idx / p.fpixels);
    if (!is_rendered(p, f, s)) {
      out[idx] = Out(0);
    } else {
      // Same as the CPU: only the first rendered pixel of the render sees the stale-phi cells_first.
      const bool interpolate = (!kSecondPass || record_switch) && p.interpolate != 0;
      PixelState st{nullptr, idx == first_pixel, interpolate, false, {0, 0, 0}, 0.0};
      const Real v = pixel_intensity(p, f, s, st);
      if (record_switch) {
        for (int i = 0; i < 3; ++i) stats->switch_hkl[i] = st.switch_hkl[i];  // its value is stored already
      } else {
        out[idx] = Out(v);  // same as nanoBragg.c: the value is stored once, in the output precision
      }
      omega = st.omega_sum;
      count = 1;
      if (!kSecondPass && st.switched_off) atomicMin(&stats->first_switch, static_cast<unsigned long long>(idx));
    }
  }
  // Pass 2 leaves the statistics alone: solid angles and counts do not depend on interpolation.
  if (!kSecondPass) block_accumulate(omega, count, stats);
}

}  // namespace

template <typename Real, typename Out>
void launch_render_pass(const SimParams<Real>& p, Out* out, std::int64_t first_pixel, DeviceStats* stats, int pass,
                        void* stream) {
  const std::int64_t n = std::int64_t(p.fpixels) * p.spixels;
  if (n <= 0) return;
  const unsigned int blocks = static_cast<unsigned int>((n + kBlock - 1) / kBlock);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (pass == 1) {
    render_kernel<Real, Out, false><<<blocks, kBlock, 0, s>>>(p, out, first_pixel, stats);
  } else {
    render_kernel<Real, Out, true><<<blocks, kBlock, 0, s>>>(p, out, first_pixel, stats);
  }
}

// Explicit instantiations: (Real, Out) as the CPU backend offers, split by Real between the two
// compilations of this file so each gets its own floating-point contraction flags.
#if NANOBRAGG_CUDA_REAL_DOUBLE
template void launch_render_pass<double, double>(const SimParams<double>&, double*, std::int64_t, DeviceStats*, int,
                                                 void*);
template void launch_render_pass<double, float>(const SimParams<double>&, float*, std::int64_t, DeviceStats*, int,
                                                void*);
#else
template void launch_render_pass<float, float>(const SimParams<float>&, float*, std::int64_t, DeviceStats*, int,
                                               void*);
template void launch_render_pass<float, double>(const SimParams<float>&, double*, std::int64_t, DeviceStats*, int,
                                                void*);
#endif

}  // namespace nanobragg::cuda::detail
