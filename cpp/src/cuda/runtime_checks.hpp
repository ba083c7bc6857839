/// What both CUDA host files need from the runtime API: errors as exceptions, and a scope that
/// makes a device current and gives the caller's back (CuPy and others keep their own notion of
/// the current device in the same runtime). Host code only.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace nanobragg::cuda {

[[noreturn]] inline void throw_cuda(cudaError_t err, const char* what) {
  cudaGetLastError();  // clear a non-sticky error so later calls start clean
  throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(err) + " (" +
                           cudaGetErrorString(err) + ")");
}

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw_cuda(err, what);
}

/// Makes device current for a scope (a negative device: the current one) and restores the
/// caller's current device.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (device >= 0 && device != previous_) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() {
    int now = -1;
    if (previous_ >= 0 && cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace nanobragg::cuda
