/// Host side of the CUDA backend: device mirrors of one run object's tables, kept in step with its
/// revisions, stream ordering, the two-pass render sequence and its statistics. Plain C++ against the CUDA runtime API, compiled by
/// the host compiler; the kernels and their launchers live in simulate.cu.
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nanobragg/core/schedule.hpp"  // for first_rendered_pixel
#include "nanobragg/cuda/simulate.hpp"
#include "nanobragg/simulator.hpp"
#include "runtime_checks.hpp"

namespace nanobragg::cuda {

namespace {

/// One cudaMalloc allocation, freed on destruction.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes) check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(o.bytes_) {}
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      if (ptr_) cudaFree(ptr_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = o.bytes_;
    }
    return *this;
  }
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

cudaStream_t to_stream(StreamHandle s) { return reinterpret_cast<cudaStream_t>(s); }

/// A device copy of one host table, refreshed when its revision changes; it reallocates only
/// when the table grows.
template <typename T>
struct DeviceTable {
  DeviceBuffer buffer;
  std::uint64_t revision = 0;  // 0: never uploaded

  const T* sync(const T* host, std::size_t n, std::uint64_t rev, cudaStream_t s) {
    if (n == 0) return nullptr;
    if (rev != revision) {
      if (buffer.bytes() < n * sizeof(T)) buffer = DeviceBuffer(n * sizeof(T));
      // Ordered on the render's stream, after any earlier render that read the old values.
      check(cudaMemcpyAsync(buffer.get(), host, n * sizeof(T), cudaMemcpyHostToDevice, s), "cudaMemcpyAsync (tables)");
      // The host table may change right after this call returns: finish the copy first.
      check(cudaStreamSynchronize(s), "cudaStreamSynchronize (tables)");
      revision = rev;
    }
    return static_cast<const T*>(buffer.get());
  }
};

/// The device side of one precision: every table SimParams points at.
template <typename Real>
struct DeviceTables {
  DeviceTable<Real> source_dir, source_lambda, source_weight, cells, cells_first, F;
  DeviceTable<std::uint16_t> mask;

  std::size_t bytes() const {
    return source_dir.buffer.bytes() + source_lambda.buffer.bytes() + source_weight.buffer.bytes() + cells.buffer.bytes() +
           cells_first.buffer.bytes() + F.buffer.bytes() + mask.buffer.bytes();
  }

  /// sp (host pointers, from Simulator::params) with every pointer field replaced by its device
  /// copy: keep this list in step with core/params.hpp.
  SimParams<Real> to_device(SimParams<Real> sp, const Simulator& sim, cudaStream_t s) {
    const std::size_t n_pixels = std::size_t(sp.fpixels) * std::size_t(sp.spixels);
    const std::size_t n_orient = 9 * std::size_t(sp.phisteps) * std::size_t(sp.domains);
    const std::uint64_t src = sim.sources_revision(), cel = sim.cells_revision();
    sp.mask = mask.sync(sp.mask, sp.mask ? n_pixels : 0, sim.mask_revision(), s);
    sp.source_dir = source_dir.sync(sp.source_dir, 3 * std::size_t(sp.n_sources), src, s);
    sp.source_lambda = source_lambda.sync(sp.source_lambda, std::size_t(sp.n_sources), src, s);
    if (sp.source_weight) sp.source_weight = source_weight.sync(sp.source_weight, std::size_t(sp.n_sources), src, s);
    sp.cells = cells.sync(sp.cells, n_orient, cel, s);
    sp.cells_first = cells_first.sync(sp.cells_first, n_orient, cel, s);
    sp.F.values = F.sync(sp.F.values, structure_factor_count(sim.prepared()), 1, s);  // the table never changes
    return sp;
  }
};

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
  Simulator* sim = nullptr;
  int device = 0;
  bool single = false;
  DeviceTables<double> tables_d;
  DeviceTables<float> tables_f;
  DeviceBuffer stats_buffer;
  detail::DeviceStats* stats_dev = nullptr;
  detail::DeviceStats* stats_host = nullptr;  // pinned, filled asynchronously after each render
  cudaEvent_t done = nullptr;                 // recorded after the latest render's statistics copy
  cudaEvent_t producer_done = nullptr;        // orders a render after the output's producer stream
  bool rendered = false;
  std::mutex mutex;  // renders from several host threads are serialised here
  DeviceBuffer host_image;  // render_to_host's device image, grown when the detector grows
  std::mutex host_mutex;    // one render_to_host at a time: they share host_image

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
      tables_d = DeviceTables<double>{};
      tables_f = DeviceTables<float>{};
      stats_buffer = DeviceBuffer{};
      host_image = DeviceBuffer{};
    }
    if (have_previous && previous != device) cudaSetDevice(previous);
    cudaGetLastError();
  }

  template <typename Real, typename Out>
  void enqueue(DeviceTables<Real>& tables, Out* out, cudaStream_t s) {
    const SimParams<Real> host = sim->params<Real>();
    const std::int64_t first_pixel = first_rendered_pixel(host);
    const SimParams<Real> p = tables.to_device(host, *sim, s);
    detail::launch_render_pass<Real, Out>(p, out, first_pixel, stats_dev, 1, s);
    check(cudaGetLastError(), "render kernel launch (pass 1)");
    if (p.interpolate != 0) {
      // The kernel itself skips everything when no pixel switched interpolation off, so the
      // host never waits between the passes.
      detail::launch_render_pass<Real, Out>(p, out, first_pixel, stats_dev, 2, s);
      check(cudaGetLastError(), "render kernel launch (pass 2)");
    }
  }
};

DeviceSimulator::DeviceSimulator(Simulator& sim, bool single, int device) : impl_(std::make_unique<Impl>()) {
  const RuntimeStatus st = runtime_status();
  if (st.device_count <= 0) {
    throw std::runtime_error("CUDA backend: no usable CUDA device (" + st.error + ")");
  }
  if (device < 0) check(cudaGetDevice(&device), "cudaGetDevice");
  if (device >= st.device_count) {
    throw std::invalid_argument("CUDA device " + std::to_string(device) + " requested; " +
                                std::to_string(st.device_count) + " visible");
  }
  const Prepared& p = sim.prepared();
  if (p.det.fpixels <= 0 || p.det.spixels <= 0) throw std::invalid_argument("the detector has no pixels");
  Impl& m = *impl_;
  m.sim = &sim;
  m.device = device;
  m.single = single;
  DeviceGuard guard(device);
  m.stats_buffer = DeviceBuffer(sizeof(detail::DeviceStats));
  m.stats_dev = static_cast<detail::DeviceStats*>(m.stats_buffer.get());
  check(cudaMallocHost(reinterpret_cast<void**>(&m.stats_host), sizeof(detail::DeviceStats)), "cudaMallocHost");
  *m.stats_host = detail::DeviceStats{0.0, 0, detail::kNoSwitch, {0, 0, 0}};
  check(cudaEventCreateWithFlags(&m.done, cudaEventDisableTiming), "cudaEventCreate");
  check(cudaEventCreateWithFlags(&m.producer_done, cudaEventDisableTiming), "cudaEventCreate");
  // The tables go to the device now, so that device_bytes() reports them and a render only copies
  // what changed since.
  if (single) {
    m.tables_f.to_device(sim.params<float>(), sim, nullptr);
  } else {
    m.tables_d.to_device(sim.params<double>(), sim, nullptr);
  }
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
    m.enqueue<float, Out>(m.tables_f, out, s);
  } else {
    m.enqueue<double, Out>(m.tables_d, out, s);
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
  for (int i = 0; i < 3; ++i) stats.switch_hkl[i] = m.stats_host->switch_hkl[i];
  return stats;
}

template <typename Out>
RenderStats DeviceSimulator::render_to_host(Out* host_out) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.host_mutex);
  const std::size_t bytes = std::size_t(fpixels()) * std::size_t(spixels()) * sizeof(Out);
  DeviceGuard guard(m.device);
  // Not in use here: every render_to_host waits for its render (and cudaFree synchronizes).
  if (m.host_image.bytes() < bytes) m.host_image = DeviceBuffer(bytes);
  render(static_cast<Out*>(m.host_image.get()), 0);
  const RenderStats stats = wait();
  check(cudaMemcpy(host_out, m.host_image.get(), bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (image to host)");
  return stats;
}

int DeviceSimulator::device() const { return impl_->device; }
bool DeviceSimulator::single() const { return impl_->single; }
int DeviceSimulator::fpixels() const { return impl_->sim->prepared().det.fpixels; }
int DeviceSimulator::spixels() const { return impl_->sim->prepared().det.spixels; }
std::size_t DeviceSimulator::device_bytes() const { return impl_->tables_d.bytes() + impl_->tables_f.bytes(); }

template void DeviceSimulator::render<float>(float*, StreamHandle, StreamHandle);
template void DeviceSimulator::render<double>(double*, StreamHandle, StreamHandle);
template RenderStats DeviceSimulator::render_to_host<float>(float*);
template RenderStats DeviceSimulator::render_to_host<double>(double*);

}  // namespace nanobragg::cuda
