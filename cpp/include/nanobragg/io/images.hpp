/// The images nanoBragg derives from its float image (L3093-L3283): statistics, the noiseless
/// SMV integer image, the PGM preview and the Poisson noise image, and atomic file writes. Host only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nanobragg/random.hpp"

namespace nanobragg {

/// Inclusive region of interest in pixels, as the C holds it.
struct Roi {
  int xmin, xmax, ymin, ymax;
};

// The ROI as inclusive row and column ranges within the image (empty when s0 > s1 or f0 > f1),
// so loops over it need no per-pixel test.
struct RoiRange {
  int f0, f1, s0, s1;
};

inline RoiRange clip_roi(Roi roi, int fpixels, int spixels) {
  return {roi.xmin > 0 ? roi.xmin : 0, roi.xmax < fpixels - 1 ? roi.xmax : fpixels - 1,
          roi.ymin > 0 ? roi.ymin : 0, roi.ymax < spixels - 1 ? roi.ymax : spixels - 1};
}

struct ImageStats {
  double max_I = 0;           // over rendered pixels (0 when none is positive)
  std::int64_t max_index = -1;
  double mean = 0, rms = 0;   // over rendered pixels (in the ROI and not masked)
  double rmsd = 0;            // about the mean, over every in-ROI pixel, masked ones too (Q24)
  std::int64_t rendered = 0;
};

ImageStats image_stats(const float* image, int fpixels, int spixels, Roi roi, const std::uint16_t* mask);

/// floorf(v*scale + adc + 0.5) clipped to 0..65535; 0 outside the ROI (Q23).
std::vector<std::uint16_t> int_image(const float* image, int fpixels, int spixels, Roi roi, double scale,
                                     double adc);
/// min(255, v*scale) truncated (negative values clip to 0); 0 outside the ROI.
std::vector<std::uint8_t> pgm_image(const float* image, int fpixels, int spixels, Roi roi, double scale);

struct NoiseResult {
  std::vector<std::uint16_t> pixels;
  double photons = 0;
  long overloads = 0;
};
/// A double cast to a 32-bit int as x86-64 does (cvttsd2si): out of range and NaN give INT32_MIN.
inline std::int32_t to_int32_x86(double v) {
  if (v >= -2147483648.0 && v < 2147483648.0) return std::int32_t(v);
  return INT32_MIN;
}

/// What a noise pixel below 0 (a negative adc) becomes: 0 (nanoBragg; its cast is undefined
/// there), or the low 16 bits of the x86-64 conversion, as nonBragg's cast gives (NONBRAGG.md).
enum class NegativeCounts { Clamp, Wrap };

/// Poisson deviates of the in-ROI pixels in raster order from the seed's ran1 stream, plus adc,
/// truncated, 65535 at most (counted as overloads); 0 outside the ROI. rng carries the shared
/// shuffle table (Q16).
NoiseResult noise_image(const float* image, int fpixels, int spixels, Roi roi, double adc, long seed,
                        RandomState rng, NegativeCounts negative = NegativeCounts::Clamp);

/// The int-image scale: the requested one if > 0, else 55000/max_I, else 1.
double int_scale(double requested, double max_I);
/// The PGM scale: the requested one if > 0, else 250/(5 rmsd), else the int scale.
double pgm_scale(double requested, double intfile_scale, double rmsd);

/// The PGM file: "P5\n<f> <s>\n# pixels scaled by <%g>\n255\n" then the bytes.
std::string pgm_file(const std::vector<std::uint8_t>& pixels, int fpixels, int spixels, double scale);

/// Why a rendered image is no physical result, or "" when it is one: NaN or infinite pixels, or
/// negative photon counts (what impossible inputs give; such an image is refused, not written).
std::string unphysical_image(const float* image, std::size_t n);

/// A file written in full to a temporary beside path (created 0666 less the umask, the mode
/// fopen() gives; the process umask is never changed), then put in place by commit(). Destroyed
/// uncommitted, e.g. by an exception, it removes the temporary: outputs staged first and
/// committed together appear all or none. A path that is a folder is refused when staging.
class StagedFile {
 public:
  StagedFile(const std::string& path, const std::string& head, const void* data, std::size_t size);
  StagedFile(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  StagedFile& operator=(StagedFile&&) = delete;
  ~StagedFile();
  /// Renames the temporary to path (over an existing file: swapped in). Throws InputError.
  void commit();

 private:
  std::string path_, tmp_;
};

/// Writes bytes to path through a temporary file in the same folder and a rename, so a failed or
/// interrupted run never leaves a partial file. Throws InputError naming the path on failure.
void write_file_atomic(const std::string& path, const void* data, std::size_t size);
void write_file_atomic(const std::string& path, const std::string& head, const void* data, std::size_t size);

}  // namespace nanobragg
