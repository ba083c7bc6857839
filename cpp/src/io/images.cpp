/// Statistics, integer/PGM/noise images and atomic writes, with nanoBragg.c's arithmetic.
#include "nanobragg/io/images.hpp"

#include <fcntl.h>   // for open, AT_FDCWD
#include <unistd.h>  // for getpid, close, unlink, syscall
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>
#include <sys/stat.h>

#include "nanobragg/io/errors.hpp"

namespace nanobragg {

ImageStats image_stats(const float* image, int fpixels, int spixels, Roi roi, const std::uint16_t* mask) {
  ImageStats st;
  const RoiRange r = clip_roi(roi, fpixels, spixels);
  double sum = 0, sumsqr = 0;
  std::int64_t n = 0;
  double max_I = 0;
  std::int64_t max_index = -1;
  // Rows in parallel; the maximum keeps the first pixel in raster order among equal values, as a
  // serial scan with '>' does.
#if defined(_OPENMP)
#pragma omp parallel
#endif
  {
    double t_max = 0;
    std::int64_t t_index = -1;
#if defined(_OPENMP)
#pragma omp for schedule(static) reduction(+ : sum, sumsqr, n)
#endif
    for (int s = r.s0; s <= r.s1; ++s) {
      for (int f = r.f0; f <= r.f1; ++f) {
        const std::int64_t i = std::int64_t(s) * fpixels + f;
        if (mask && mask[i] == 0) continue;
        const double v = image[i];
        if (v > t_max) t_max = v, t_index = i;
        sum += v;
        sumsqr += v * v;
        ++n;
      }
    }
#if defined(_OPENMP)
#pragma omp critical(nanobragg_image_max)
#endif
    if (t_index >= 0 && (t_max > max_I || (t_max == max_I && (max_index < 0 || t_index < max_index)))) {
      max_I = t_max, max_index = t_index;
    }
  }
  st.max_I = max_I, st.max_index = max_index;
  st.rendered = n;
  const std::int64_t n1 = n > 0 ? n : 1;
  st.mean = sum / n1;
  const std::int64_t n2 = n > 1 ? n : 2;
  st.rms = std::sqrt(sumsqr / (n2 - 1));
  double dev = 0;
  std::int64_t m = 0;
  const double mean = st.mean;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) reduction(+ : dev, m)
#endif
  for (int s = r.s0; s <= r.s1; ++s) {
    for (int f = r.f0; f <= r.f1; ++f) {
      const double d = image[std::int64_t(s) * fpixels + f] - mean;
      dev += d * d;
      ++m;
    }
  }
  if (m <= 1) m = 2;
  st.rmsd = std::sqrt(dev / (m - 1));
  return st;
}

namespace {
// out[i] = convert(image[i]) for the pixels inside the ROI, 0 elsewhere (rows in parallel; the
// ROI is cut into a column range per row so the inner loop has no test and vectorizes).
template <typename T, typename Convert>
std::vector<T> map_roi(const float* image, int fpixels, int spixels, Roi roi, Convert convert) {
  std::vector<T> out(std::size_t(fpixels) * spixels, 0);
  const RoiRange r = clip_roi(roi, fpixels, spixels);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
  for (int s = r.s0; s <= r.s1; ++s) {
    const float* in = image + std::size_t(s) * fpixels + r.f0;
    T* row = out.data() + std::size_t(s) * fpixels + r.f0;
    const int n = r.f1 - r.f0 + 1;  // a counted loop: 'f <= f1' alone keeps it from vectorizing
    for (int k = 0; k < n; ++k) row[k] = convert(in[k]);
  }
  return out;
}
}  // namespace

std::vector<std::uint16_t> int_image(const float* image, int fpixels, int spixels, Roi roi, double scale,
                                     double adc) {
  return map_roi<std::uint16_t>(image, fpixels, spixels, roi, [=](float x) {
    double v = x * scale + adc;
    v = v > 65535.0 ? 65535.0 : v;
    v = v < 0.0 ? 0.0 : v;
    // Same as nanoBragg.c: v + 0.5 is rounded to float, then floorf (Q23); the value is >= 0.5,
    // so truncation is the floor (a conversion instruction instead of a libm call).
    return static_cast<std::uint16_t>(static_cast<int>(static_cast<float>(v + 0.5)));
  });
}

std::vector<std::uint8_t> pgm_image(const float* image, int fpixels, int spixels, Roi roi, double scale) {
  return map_roi<std::uint8_t>(image, fpixels, spixels, roi, [=](float x) {
    double v = x * scale;
    if (v > 255.0) v = 255.0;
    if (v < 0.0) v = 0.0;  // the C casts negative values (undefined); clip instead
    return static_cast<std::uint8_t>(v);
  });
}

NoiseResult noise_image(const float* image, int fpixels, int spixels, Roi roi, double adc, long seed,
                        RandomState rng, NegativeCounts negative) {
  NoiseResult r;
  r.pixels.assign(std::size_t(fpixels) * spixels, 0);
  const RoiRange range = clip_roi(roi, fpixels, spixels);
  for (int s = range.s0; s <= range.s1; ++s) {
    for (int f = range.f0; f <= range.f1; ++f) {
      const std::size_t i = std::size_t(s) * fpixels + f;
      double v = poidev(image[i], &seed, rng);
      r.photons += v;
      v += adc;
      if (v > 65535.0) {
        v = 65535.0;
        ++r.overloads;
      }
      if (negative == NegativeCounts::Wrap) {
        r.pixels[i] = std::uint16_t(std::uint32_t(to_int32_x86(v)) & 0xffffu);
      } else {
        r.pixels[i] = static_cast<std::uint16_t>(v < 0.0 ? 0.0 : v);
      }
    }
  }
  return r;
}

double int_scale(double requested, double max_I) {
  if (requested > 0.0) return requested;
  return max_I > 0.0 ? 55000.0 / max_I : 1.0;
}

double pgm_scale(double requested, double intfile_scale, double rmsd) {
  if (requested > 0.0) return requested;
  return rmsd > 0.0 ? 250.0 / (5.0 * rmsd) : intfile_scale;
}

std::string pgm_file(const std::vector<std::uint8_t>& pixels, int fpixels, int spixels, double scale) {
  char head[160];
  std::snprintf(head, sizeof head, "P5\n%d %d\n# pixels scaled by %g\n255\n", fpixels, spixels, scale);
  std::string out(head);
  out.append(reinterpret_cast<const char*>(pixels.data()), pixels.size());
  return out;
}

std::string unphysical_image(const float* image, std::size_t n) {
  std::size_t nonfinite = 0, negative = 0;
  for (std::size_t i = 0; i < n; ++i) {
    nonfinite += !std::isfinite(image[i]);
    negative += image[i] < 0.0f;
  }
  if (nonfinite) {
    return "the image has " + std::to_string(nonfinite) +
           " NaN or infinite pixels: the inputs have no physical result (a zero, huge or non-finite value)";
  }
  if (negative) {
    return "the image has " + std::to_string(negative) +
           " pixels of negative photons: the inputs have no physical result (a negative fluence, flux or size)";
  }
  return std::string();
}

namespace {
// Puts the finished temporary file at path. Over an existing regular file the two are swapped
// (renameat2 RENAME_EXCHANGE) and the old one removed: a plain rename over a file makes ext4
// write the new data back at once (its auto_da_alloc heuristic), ~10 ms per 16 MB here, which
// the C's truncate-and-write does not pay. Elsewhere, and where the swap is refused, a rename.
bool move_into_place(const std::string& tmp, const std::string& path) {
#if defined(__linux__) && defined(SYS_renameat2)
  constexpr unsigned rename_exchange = 1u << 1;  // RENAME_EXCHANGE of <linux/fs.h>
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      syscall(SYS_renameat2, AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), rename_exchange) == 0) {
    unlink(tmp.c_str());  // the old file now
    return true;
  }
#endif
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// A new file in folder with a unique hidden name (set in name), open for writing. Created with
// mode 0666, which the kernel masks with the umask: what fopen() gives a new file. The process
// umask is never read or changed, since other threads may be creating files at the same time.
int create_temporary(const std::string& folder, std::string& name) {
  static std::atomic<unsigned long> counter{0};
  const unsigned long pid = static_cast<unsigned long>(getpid());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto now = static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, "/.nanobragg-%lx-%lx-%llx", pid, counter.fetch_add(1), now & 0xffffffULL);
    name = folder + suffix;
    const int fd = open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}
}  // namespace

StagedFile::StagedFile(const std::string& path, const std::string& head, const void* data, std::size_t size)
    : path_(path) {
  // What the final rename would fail on is refused now, before any file of a set is in place:
  // no name, a folder, a name too long, a path through a non-folder.
  if (path.empty() || path.back() == '/') throw InputError("cannot write '" + path + "': no file name");
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw InputError("cannot write '" + path + "': a folder");
  } else if (errno == ENAMETOOLONG || errno == ENOTDIR || errno == ELOOP) {
    throw InputError("cannot write '" + path + "': " + std::strerror(errno));
  }
  const std::size_t slash = path.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash);
  const int fd = create_temporary(folder, tmp_);
  if (fd < 0) {
    tmp_.clear();
    throw InputError("cannot write '" + path + "': cannot create a temporary file in " + folder);
  }
  FILE* f = fdopen(fd, "wb");
  bool ok = f != nullptr;
  if (ok && !head.empty()) ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  if (ok && size) ok = std::fwrite(data, 1, size, f) == size;
  if (f) ok = (std::fclose(f) == 0) && ok;
  else close(fd);
  if (!ok) throw InputError("cannot write '" + path + "'");  // the destructor removes the temporary
}

StagedFile::StagedFile(StagedFile&& other) noexcept : path_(std::move(other.path_)), tmp_(std::move(other.tmp_)) {
  other.tmp_.clear();
}

StagedFile::~StagedFile() {
  if (!tmp_.empty()) unlink(tmp_.c_str());
}

void StagedFile::commit() {
  if (tmp_.empty()) return;
  if (!move_into_place(tmp_, path_)) throw InputError("cannot write '" + path_ + "'");
  tmp_.clear();
}

void write_file_atomic(const std::string& path, const std::string& head, const void* data, std::size_t size) {
  StagedFile(path, head, data, size).commit();
}

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  write_file_atomic(path, std::string(), data, size);
}

}  // namespace nanobragg
