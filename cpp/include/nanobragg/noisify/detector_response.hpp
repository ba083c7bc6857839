/// noisify.c's detector chain on a photons/pixel float image (NOISIFY.md sections 6 and 8): the
/// noiseless integer image and PGM, and the noise image (flicker, calibration error, Poisson,
/// PSF, gain, adc, read-out noise, clipping), with the C's random streams, draw order and integer
/// casts. Beyond the C, each off by default: pixel binning, a saturation level, hot and dead pixels.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nanobragg/noisify/psf.hpp"

namespace nanobragg::noisify {

struct ResponseParams {
  double photon_factor = 1.0;  // (fluence * r_e^2) * scale, multiplied into every input value
  double gain = 1.0, adc = 40.0;
  double readout = 0.0, flicker = 0.0, calibration = 0.03;
  long calib_idum = 123456789;  // the calibration stream as the C stores it (-n for -calib_seed n)
  PsfSpec psf;
  int bits = 16;                // 16 or 32 fill the pixel arrays; other values give none (N10)
  bool corrected = false;       // clamp instead of wrapping (N9), integer counts above 1e6 (N15), ...
  int binning = 1;              // sum n x n pixels after the PSF, before gain and read-out noise
  double saturation = 0.0;      // > 0: the ADU ceiling; higher pixels read it and count as overloads
  double hot_fraction = 0.0, dead_fraction = 0.0;
  long hot_seed = 5678, dead_seed = 1234;  // as typed; each pixel set comes from its own stream
  int threads = 0;              // OpenMP threads for the PSF and the binning (0 = default)
};

/// The input scan of main() (L481-L491) plus what the port checks for.
struct InputScan {
  double max_I = 0.0;
  std::vector<float> negatives;  // in raster order (the C warns about each)
  std::int64_t nonfinite = 0;    // NaN or infinite pixels
  std::int64_t below_001 = 0;    // values in (0, 0.01): NaN radius for an automatic Gaussian PSF
};

/// Images of one noisify run; arrays are (height/binning) x (width/binning) in raster order.
struct ResponseImages {
  int width = 0, height = 0;      // of the output images
  std::vector<std::uint16_t> int16;   // noiseless, also behind the PGM
  std::vector<std::uint32_t> int32;   // noiseless, bits 32 only
  std::vector<std::uint8_t> pgm;
  std::vector<std::uint16_t> noise16;
  std::vector<std::uint32_t> noise32;
  PsfReport noiseless_psf, noise_psf;
  double photons_before_psf = 0.0, photons = 0.0;
  long overloads = 0;
  std::int64_t wrapped_noiseless = 0, wrapped_noise = 0;  // negative ADU wrapped by the casts (N9)
  std::int64_t clipped32 = 0;        // noiseless 32-bit pixels clipped at 65535 (N8)
  std::int64_t poisson_gaussian = 0; // means above 1e6: Gaussian, non-integer counts (N15)
  bool first_mean_minus1 = false;    // the first Poisson mean was exactly -1 (N18)
  std::int64_t hot = 0, dead = 0;
};

InputScan scan_input(const float* input, std::int64_t pixels);

/// Called once the noiseless images (int16, int32, pgm) are complete, while the draws may still
/// run: it may read those and width/height, nothing else. With noise and two threads it runs on
/// the side thread (so it can write their files off the critical path); what it throws, the
/// chain rethrows.
using NoiselessDone = std::function<void(const ResponseImages&)>;

/// The whole chain: with_noise = false is -nonoise (the PSF then blurs the noiseless image and no
/// number is drawn). seed is the noise stream as the C stores it (-n for -seed n). Throws
/// std::invalid_argument for values the C cannot process (see apply_psf) or a binning that does
/// not divide the image.
ResponseImages detector_response(const float* input, int width, int height, const ResponseParams& p, long seed,
                                 bool with_noise, const NoiselessDone& noiseless_done = nullptr);

}  // namespace nanobragg::noisify
