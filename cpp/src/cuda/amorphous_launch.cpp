/// Host side of nonBragg's amorphous model on CUDA: the set-up's tables copied to the device, the
/// render, the copy back and the CPU's in-order pass over the rows whose look-ups tied with a
/// table point (finish_amorphous_rows), so the image and statistics are the CPU backend's. Plain
/// C++ against the CUDA runtime API; the kernels live in amorphous.cu.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "nanobragg/cuda/amorphous.hpp"
#include "nanobragg/cuda/simulate.hpp"  // for runtime_status
#include "runtime_checks.hpp"

namespace nanobragg::cuda {

namespace {

/// n elements of T in device memory for one render, freed on destruction.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t n) : n_(n) {
    if (n) check(cudaMalloc(reinterpret_cast<void**>(&ptr_), n * sizeof(T)), "cudaMalloc");
  }
  DeviceArray(const T* host, std::size_t n) : DeviceArray(n) {
    if (n) check(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (tables)");
  }
  ~DeviceArray() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  void zero() const {
    if (n_) check(cudaMemset(ptr_, 0, n_ * sizeof(T)), "cudaMemset");
  }
  void to_host(T* host) const {
    if (n_) check(cudaMemcpy(host, ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy (results)");
  }

 private:
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace

AmorphousStats render_amorphous_on_device(const AmorphousSetup& setup, float* image, bool add, int device) {
  AmorphousParams<double> p = setup.params();
  if (!p.corrected && !p.table.monotonic) {
    throw std::invalid_argument(
        "the CUDA backend needs a table whose stol never decreases (with this one the C's look-up depends on "
        "the pixel order, so it is serial): use the CPU, or -corrected");
  }
  const RuntimeStatus rt = runtime_status();
  if (rt.device_count <= 0) throw std::runtime_error("CUDA backend: no usable CUDA device (" + rt.error + ")");
  if (device >= rt.device_count) {
    throw std::invalid_argument("CUDA device " + std::to_string(device) + " requested; " +
                                std::to_string(rt.device_count) + " visible");
  }
  DeviceGuard guard(device);
  const std::size_t n = std::size_t(p.fpixels) * std::size_t(p.spixels), rows = std::size_t(p.spixels);
  const std::size_t sources = std::size_t(p.n_sources);
  // Device copies of every table the parameters point at (keep in step with AmorphousParams).
  DeviceArray<double> dir(p.source_dir, 3 * sources), pol_dir(p.source_pol_dir, 3 * sources);
  DeviceArray<double> lambda(p.source_lambda, sources), weight(p.source_weight, sources);
  DeviceArray<double> stol(p.table.stol, std::size_t(p.table.n)), F(p.table.F, std::size_t(p.table.n));
  DeviceArray<int> bucket(p.table.bucket, std::size_t(p.table.buckets > 0 ? p.table.buckets : 0));
  p.source_dir = dir.get(), p.source_pol_dir = pol_dir.get(), p.source_lambda = lambda.get();
  p.source_weight = weight.get(), p.table.stol = stol.get(), p.table.F = F.get();
  p.table.bucket = p.table.buckets > 0 ? bucket.get() : nullptr;

  DeviceArray<float> d_image(n);
  DeviceArray<double> d_pixel_omega(n), d_row_omega(rows);
  DeviceArray<int> d_unknown(rows), d_nearest(rows);
  d_image.zero(), d_unknown.zero(), d_nearest.zero();
  detail::launch_amorphous(
      p, {d_image.get(), d_pixel_omega.get(), d_row_omega.get(), d_unknown.get(), d_nearest.get()}, nullptr);
  check(cudaGetLastError(), "amorphous kernel launch");
  check(cudaDeviceSynchronize(), "amorphous render");

  std::vector<float> own(n);
  std::vector<double> row_omega(rows);
  std::vector<int> unknown(rows), nearest(rows);
  d_image.to_host(own.data()), d_row_omega.to_host(row_omega.data());
  d_unknown.to_host(unknown.data()), d_nearest.to_host(nearest.data());

  // The rows as the CPU's parallel pass leaves them, then its in-order pass.
  const int f_first = p.roi_xmin > 0 ? p.roi_xmin : 0;
  const int f_last = p.roi_xmax < p.fpixels - 1 ? p.roi_xmax : p.fpixels - 1;
  const std::int64_t per_row = f_last >= f_first ? f_last - f_first + 1 : 0;
  std::vector<AmorphousRow> out(rows);
  for (std::size_t s = 0; s < rows; ++s) {
    if (int(s) < p.roi_ymin || int(s) > p.roi_ymax) continue;
    AmorphousRow& r = out[s];
    r.omega_sum = row_omega[s];
    r.rendered = per_row;
    r.walk = WalkState{nearest[s], 1, unknown[s], nearest[s] > 0 ? nearest[s] : 1};
  }
  AmorphousStats st;
  finish_amorphous_rows(setup, own.data(), out, nullptr, st);
  for (std::size_t i = 0; i < n; ++i) {
    const int f = int(i % std::size_t(p.fpixels)), s = int(i / std::size_t(p.fpixels));
    if (add) {
      image[i] += own[i];  // as the CPU: the float sum of the two float images
    } else if (amorphous_in_roi(p, f, s)) {
      image[i] = own[i];  // pixels outside the ROI are left alone
    }
  }
  return st;
}

}  // namespace nanobragg::cuda
