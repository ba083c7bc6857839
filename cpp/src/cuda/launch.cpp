/// Host side of the CUDA backend: device buffers for one prepared run, stream ordering, the
/// two-pass render sequence and its statistics. Plain C++ against the CUDA runtime API, compiled by
/// the host compiler; the kernels and their launchers live in simulate.cu.
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nanobragg/cuda/simulate.hpp"
#include "nanobragg/sim_params.hpp"  // for make_sim_params, KernelTables

namespace nanobragg::cuda {

namespace {

[[noreturn]] void throw_cuda(cudaError_t err, const char* what) {
  cudaGetLastError();  // clear a non-sticky error so later calls start clean
  throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(err) + " (" +
                           cudaGetErrorString(err) + ")");
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw_cuda(err, what);
}

/// Makes device current for a scope and restores the caller's current device (CuPy and others
/// keep their own notion of the current device in the same runtime).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
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

/// One cudaMalloc allocation, freed on destruction.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes) check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(o.bytes_) {}
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

cudaStream_t to_stream(StreamHandle s) { return reinterpret_cast<cudaStream_t>(s); }

/// First pixel in row-major order inside the ROI and not masked: the C's first evaluation, which
/// alone sees the stale-phi orientation (cells_first). Same loop as the CPU scheduler.
template <typename Real>
std::int64_t first_rendered_pixel(const SimParams<Real>& p) {
  for (int s = p.roi_ymin < 0 ? 0 : p.roi_ymin; s < p.spixels && s <= p.roi_ymax; ++s) {
    for (int f = p.roi_xmin < 0 ? 0 : p.roi_xmin; f < p.fpixels && f <= p.roi_xmax; ++f) {
      const std::int64_t idx = std::int64_t(s) * p.fpixels + f;
      if (!(p.mask && p.mask[idx] == 0)) return idx;
    }
  }
  return -1;
}

}  // namespace

RuntimeStatus runtime_status() {
  RuntimeStatus st;
  cudaRuntimeGetVersion(&st.runtime_version);
  if (cudaDriverGetVersion(&st.driver_version) != cudaSuccess) st.driver_version = 0;
  const cudaError_t err = cudaGetDeviceCount(&st.device_count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    st.device_count = 0;
    st.error = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
  } else if (st.device_count == 0) {
    st.error = "no CUDA device is visible";
  }
  return st;
}

std::string device_description(int device) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
         std::to_string(prop.totalGlobalMem >> 20) + " MiB)";
}

struct DeviceSimulator::Impl {
  int device = 0;
  bool single = false;
  bool interpolate = false;
  int fpixels = 0, spixels = 0;
  std::int64_t first_pixel = -1;
  SimParams<double> params_d{};  // pointers into device memory
  SimParams<float> params_f{};
  std::vector<DeviceBuffer> buffers;
  std::size_t bytes = 0;
  detail::DeviceStats* stats_dev = nullptr;
  detail::DeviceStats* stats_host = nullptr;  // pinned, filled asynchronously after each render
  cudaEvent_t done = nullptr;                 // recorded after the latest render's statistics copy
  cudaEvent_t producer_done = nullptr;        // orders a render after the output's producer stream
  bool rendered = false;
  std::mutex mutex;  // renders from several host threads are serialised here

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    // Errors are ignored here: at interpreter exit the runtime may already be unloading.
    int previous = -1;
    const bool have_previous = cudaGetDevice(&previous) == cudaSuccess;
    if (cudaSetDevice(device) == cudaSuccess) {
      if (done) {
        cudaEventSynchronize(done);  // kernels may still be using the buffers
        cudaEventDestroy(done);
      }
      if (producer_done) cudaEventDestroy(producer_done);
      if (stats_host) cudaFreeHost(stats_host);
      buffers.clear();
    }
    if (have_previous && previous != device) cudaSetDevice(previous);
    cudaGetLastError();
  }

  template <typename T>
  const T* upload(const T* host, std::size_t n) {
    if (!host || n == 0) return nullptr;
    buffers.emplace_back(n * sizeof(T));
    check(cudaMemcpy(buffers.back().get(), host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (tables)");
    bytes += n * sizeof(T);
    return static_cast<const T*>(buffers.back().get());
  }

  template <typename Real>
  SimParams<Real> upload_run(const Prepared& p, const std::uint16_t* mask) {
    KernelTables<Real> t;
    SimParams<Real> sp = make_sim_params<Real>(p, t, mask);
    first_pixel = first_rendered_pixel(sp);
    // Every pointer field of SimParams is replaced by a device copy here (the host tables in t
    // die with this function): keep this list in step with core/params.hpp.
    const std::size_t n_pixels = std::size_t(sp.fpixels) * std::size_t(sp.spixels);
    sp.mask = upload(mask, mask ? n_pixels : 0);
    sp.source_dir = upload(t.source_dir.data(), t.source_dir.size());
    sp.source_lambda = upload(t.source_lambda.data(), t.source_lambda.size());
    sp.cells = upload(t.cells.data(), t.cells.size());
    sp.cells_first = upload(t.cells_first.data(), t.cells_first.size());
    sp.F.values = upload(t.F.data(), t.F.size());
    return sp;
  }

  template <typename Real, typename Out>
  void enqueue(const SimParams<Real>& p, Out* out, cudaStream_t s) {
    detail::launch_render_pass<Real, Out>(p, out, first_pixel, stats_dev, 1, s);
    check(cudaGetLastError(), "render kernel launch (pass 1)");
    if (interpolate) {
      // The kernel itself skips everything when no pixel switched interpolation off, so the
      // host never waits between the passes.
      detail::launch_render_pass<Real, Out>(p, out, first_pixel, stats_dev, 2, s);
      check(cudaGetLastError(), "render kernel launch (pass 2)");
    }
  }
};

DeviceSimulator::DeviceSimulator(const Prepared& p, const std::uint16_t* mask, bool single, int device)
    : impl_(std::make_unique<Impl>()) {
  const RuntimeStatus st = runtime_status();
  if (st.device_count <= 0) {
    throw std::runtime_error("CUDA backend: no usable CUDA device (" + st.error + ")");
  }
  if (device < 0) check(cudaGetDevice(&device), "cudaGetDevice");
  if (device >= st.device_count) {
    throw std::invalid_argument("CUDA device " + std::to_string(device) + " requested; " +
                                std::to_string(st.device_count) + " visible");
  }
  if (p.det.fpixels <= 0 || p.det.spixels <= 0) throw std::invalid_argument("the detector has no pixels");
  Impl& m = *impl_;
  m.device = device;
  m.single = single;
  m.fpixels = p.det.fpixels;
  m.spixels = p.det.spixels;
  DeviceGuard guard(device);
  if (single) {
    m.params_f = m.upload_run<float>(p, mask);
    m.interpolate = m.params_f.interpolate != 0;
  } else {
    m.params_d = m.upload_run<double>(p, mask);
    m.interpolate = m.params_d.interpolate != 0;
  }
  m.buffers.emplace_back(sizeof(detail::DeviceStats));
  m.stats_dev = static_cast<detail::DeviceStats*>(m.buffers.back().get());
  check(cudaMallocHost(reinterpret_cast<void**>(&m.stats_host), sizeof(detail::DeviceStats)), "cudaMallocHost");
  *m.stats_host = detail::DeviceStats{0.0, 0, detail::kNoSwitch};
  check(cudaEventCreateWithFlags(&m.done, cudaEventDisableTiming), "cudaEventCreate");
  check(cudaEventCreateWithFlags(&m.producer_done, cudaEventDisableTiming), "cudaEventCreate");
}

DeviceSimulator::~DeviceSimulator() = default;

template <typename Out>
void DeviceSimulator::render(Out* out, StreamHandle stream, StreamHandle producer) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mutex);
  DeviceGuard guard(m.device);
  cudaPointerAttributes attr{};
  check(cudaPointerGetAttributes(&attr, out), "cudaPointerGetAttributes");
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged) {
    throw std::invalid_argument("out is not CUDA device memory");
  }
  if (attr.device != m.device) {
    throw std::invalid_argument("out lives on CUDA device " + std::to_string(attr.device) +
                                "; this simulator was prepared on device " + std::to_string(m.device));
  }
  const cudaStream_t s = to_stream(stream);
  // The statistics buffers are shared by this simulator's renders: order after the previous one
  // even when it ran on another stream.
  if (m.rendered) check(cudaStreamWaitEvent(s, m.done, 0), "cudaStreamWaitEvent");
  if (producer != 0 && producer != stream) {
    // __cuda_array_interface__ v3: work on the producer's stream must finish before we write.
    check(cudaEventRecord(m.producer_done, to_stream(producer)), "cudaEventRecord (producer stream)");
    check(cudaStreamWaitEvent(s, m.producer_done, 0), "cudaStreamWaitEvent (producer stream)");
  }
  check(cudaMemsetAsync(m.stats_dev, 0, sizeof(detail::DeviceStats), s), "cudaMemsetAsync");
  check(cudaMemsetAsync(&m.stats_dev->first_switch, 0xff, sizeof(m.stats_dev->first_switch), s), "cudaMemsetAsync");
  if (m.single) {
    m.enqueue<float, Out>(m.params_f, out, s);
  } else {
    m.enqueue<double, Out>(m.params_d, out, s);
  }
  check(cudaMemcpyAsync(m.stats_host, m.stats_dev, sizeof(detail::DeviceStats), cudaMemcpyDeviceToHost, s),
        "cudaMemcpyAsync (statistics)");
  check(cudaEventRecord(m.done, s), "cudaEventRecord");
  m.rendered = true;
}

RenderStats DeviceSimulator::wait() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mutex);
  RenderStats stats;
  if (!m.rendered) return stats;
  DeviceGuard guard(m.device);
  // Errors of the kernels themselves (e.g. an illegal address) surface here.
  check(cudaEventSynchronize(m.done), "render (cudaEventSynchronize)");
  stats.omega_sum = m.stats_host->omega_sum;
  stats.rendered = std::int64_t(m.stats_host->rendered);
  stats.interpolation_switched_off = m.stats_host->first_switch != detail::kNoSwitch;
  return stats;
}

template <typename Out>
RenderStats DeviceSimulator::render_to_host(Out* host_out) {
  const std::size_t bytes = std::size_t(impl_->fpixels) * impl_->spixels * sizeof(Out);
  DeviceGuard guard(impl_->device);
  DeviceBuffer image(bytes);
  render(static_cast<Out*>(image.get()), 0);
  const RenderStats stats = wait();
  check(cudaMemcpy(host_out, image.get(), bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (image to host)");
  return stats;
}

int DeviceSimulator::device() const { return impl_->device; }
bool DeviceSimulator::single() const { return impl_->single; }
int DeviceSimulator::fpixels() const { return impl_->fpixels; }
int DeviceSimulator::spixels() const { return impl_->spixels; }
std::size_t DeviceSimulator::device_bytes() const { return impl_->bytes; }

template void DeviceSimulator::render<float>(float*, StreamHandle, StreamHandle);
template void DeviceSimulator::render<double>(double*, StreamHandle, StreamHandle);
template RenderStats DeviceSimulator::render_to_host<float>(float*);
template RenderStats DeviceSimulator::render_to_host<double>(double*);

}  // namespace nanobragg::cuda
