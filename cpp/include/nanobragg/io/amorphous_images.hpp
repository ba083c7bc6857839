/// The images and the extracted table nonBragg derives from its float image (L1684-L1884,
/// L1622-L1681), where they differ from nanoBragg's: the off-by-one rmsd (B13), the PGM cast that
/// wraps negative values (x86-64 rule; the noise image is noise_image() with NegativeCounts::Wrap),
/// and the F(stol) extraction of -img. Host only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nanobragg/amorphous.hpp"
#include "nanobragg/io/images.hpp"

namespace nanobragg {

struct AmorphousImageStats {
  double max_I = 0;
  std::int64_t max_index = -1;
  double sum = 0, mean = 0, rms = 0, rmsd = 0;
  std::int64_t n = 0;  // in-ROI pixels
};
/// count: the C's pixel counter at the end of the render (-1: the in-ROI pixel count; -img
/// overwrites it with the last table bin's count, B13).
AmorphousImageStats amorphous_image_stats(const float* image, int fpixels, int spixels, Roi roi, std::int64_t count);

/// Image bytes then as many zero bytes (the C writes 2 bytes per pixel, B14); negative values wrap.
std::vector<std::uint8_t> amorphous_pgm_bytes(const float* image, int fpixels, int spixels, Roi roi, double scale);

struct ExtractedTable {
  std::string text;                   // the -stolout file
  std::vector<std::string> messages;  // the C's WARNING lines, then "wrote ..."
  int lines = 0;
  std::int64_t last_bin_count = 0;    // becomes the statistics' pixel count (B13)
};
/// F(stol) from a measured image (-img): pixels equal to one of ignore are skipped; adc and gain
/// invert the int-image scale.
ExtractedTable extract_stol_table(const AmorphousSetup& setup, const LastEvaluation& last, const float* measured,
                                  const std::vector<std::uint16_t>& ignore, double adc, double gain,
                                  double stol_mult);

}  // namespace nanobragg
