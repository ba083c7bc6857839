/// The detector chain of noisify.c's main() (L481-L663), stage by stage.
#include "nanobragg/noisify/detector_response.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <stdexcept>
#include <exception>
#include <limits>
#include <string>
#include <thread>

#include "nanobragg/random.hpp"
#include "nanobragg/random_draws.hpp"
#include "nanobragg/threads.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace nanobragg::noisify {

namespace {
constexpr double int32_ceiling = 2147483647.0;
constexpr double int16_ceiling = 65535.0;

// The C casts doubles to unsigned types with no lower clamp. x86-64 GCC truncates to a signed
// 32-bit (for unsigned short) or 64-bit (for unsigned int) integer and keeps the low bits; a value
// that does not fit, and NaN, becomes the "integer indefinite" 0x80...0, whose low bits are 0
// (NOISIFY.md 6.6). Corrected: negative and NaN values read 0.
std::uint16_t cast16(double a, bool corrected) {
  if (corrected) return a > 0.0 ? std::uint16_t(a) : 0;  // callers clip at 65535 first
  if (!(a > -2147483649.0 && a < 2147483648.0)) return 0;
  return std::uint16_t(std::uint32_t(std::int32_t(a)));
}
std::uint32_t cast32(double a, bool corrected) {
  if (corrected) return a > 0.0 ? std::uint32_t(a) : 0;  // callers clip at 2^31 - 1 first
  if (!(a >= -9223372036854775808.0 && a < 9223372036854775808.0)) return 0;
  return std::uint32_t(std::uint64_t(std::int64_t(a)));
}

// An image after binning: sums of n x n blocks in double, or the float pixels themselves for n = 1.
class Binned {
 public:
  Binned(const std::vector<float>& img, int width, int height, int n, int threads) : img_(img), n_(n) {
    if (n == 1) return;
    const int bw = width / n, bh = height / n;
    sums_.assign(std::size_t(bw) * bh, 0.0);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(thread_count(threads))
#endif
    for (int by = 0; by < bh; ++by) {
      for (int bx = 0; bx < bw; ++bx) {
        double sum = 0.0;
        for (int y = by * n; y < (by + 1) * n; ++y)
          for (int x = bx * n; x < (bx + 1) * n; ++x) sum += img[std::size_t(y) * width + x];
        sums_[std::size_t(by) * bw + bx] = sum;
      }
    }
  }
  double operator[](std::size_t i) const { return n_ == 1 ? double(img_[i]) : sums_[i]; }

 private:
  const std::vector<float>& img_;
  int n_;
  std::vector<double> sums_;
};

// ran1 from its own table: the same pixel set for the same seed whatever else the run draws.
std::vector<char> pixel_set(std::size_t pixels, double fraction, long seed) {
  std::vector<char> set(pixels, 0);
  if (!(fraction > 0.0)) return set;
  RandomState st;
  long idum = -std::labs(seed);
  for (auto& s : set) s = ran1(&idum, st) < fraction;
  return set;
}
}  // namespace

InputScan scan_input(const float* input, std::int64_t pixels) {
  // One pass on the float bits, in integer operations the compiler vectorizes. The C's double
  // max_I (from 0, raised where max_I < v) is the largest v in (0, inf], NaN never counted: over
  // those bit patterns (0, 0x7f800000] the integer order is the float order. v < 0.01 in double is
  // v <= 0.01f, the float just below 0.01. Then the negative values, in raster order, only where
  // the first pass found some.
  static_assert(double(0.01f) < 0.01, "0.01f rounds down");
  std::int32_t below_bits;
  const float below = 0.01f;
  std::memcpy(&below_bits, &below, sizeof below_bits);
  std::int32_t max_bits = 0;
  std::int64_t negatives = 0, nonfinite = 0, below_001 = 0;
  for (std::int64_t start = 0; start < pixels; start += 1 << 20) {  // 32-bit counts per block
    const std::int64_t end = std::min<std::int64_t>(pixels, start + (1 << 20));
    std::int32_t neg = 0, bad = 0, small = 0, block_max = 0;
    for (std::int64_t i = start; i < end; ++i) {
      std::int32_t b;
      std::memcpy(&b, input + i, sizeof b);
      const std::int32_t magnitude = b & 0x7fffffff;
      const std::int32_t positive = (b > 0) & (b <= 0x7f800000) ? b : 0;  // (0, inf]
      block_max = block_max < positive ? positive : block_max;
      neg += (b < 0) & (magnitude != 0) & (magnitude <= 0x7f800000);       // v < 0 (not -0, not NaN)
      bad += magnitude >= 0x7f800000;                                     // infinite or NaN
      small += (b > 0) & (b <= below_bits);                               // 0 < v < 0.01
    }
    max_bits = max_bits < block_max ? block_max : max_bits;
    negatives += neg, nonfinite += bad, below_001 += small;
  }
  float max_I;
  std::memcpy(&max_I, &max_bits, sizeof max_I);
  InputScan s;
  s.max_I = max_I, s.nonfinite = nonfinite, s.below_001 = below_001;
  s.negatives.reserve(std::size_t(negatives));
  for (std::int64_t i = 0; negatives && i < pixels; ++i) {
    if (input[i] < 0.0f) s.negatives.push_back(input[i]), --negatives;
  }
  return s;
}

ResponseImages detector_response(const float* input, int width, int height, const ResponseParams& p, long seed,
                                 bool with_noise, const NoiselessDone& noiseless_done) {
  if (p.binning < 1 || width % p.binning != 0 || height % p.binning != 0) {
    throw std::invalid_argument("binning " + std::to_string(p.binning) + " does not divide the " +
                                std::to_string(width) + " x " + std::to_string(height) + " image");
  }
  const std::size_t pixels = std::size_t(width) * height;
  const bool corrected = p.corrected;
  ResponseImages r;
  r.width = width / p.binning, r.height = height / p.binning;
  const std::size_t out_pixels = std::size_t(r.width) * r.height;

  // Photons/pixel (L481-L491), in float as the C stores them; computed where used (an array
  // only where the PSF or the binning needs the whole image).
  const int threads = thread_count(p.threads);
  const double photon_factor = p.photon_factor;
  auto photon = [&](std::size_t i) { return float(photon_factor * double(input[i])); };

  // Noiseless integers and PGM (L495-L563); the PSF reaches them only without noise. With noise
  // and a second thread they are made beside the serial draws below (they read only the input).
  auto noiseless = [&](int stage_threads) {
    const bool blur = !with_noise && p.psf.type != PsfType::none;
    std::vector<float> photons, blurred;
    if (blur || p.binning > 1) {
      photons.resize(pixels);
      for (std::size_t i = 0; i < pixels; ++i) photons[i] = photon(i);
    }
    const std::vector<float>* src = &photons;
    if (blur) {
      r.noiseless_psf = apply_psf(photons.data(), width, height, p.psf, blurred, stage_threads);
      src = &blurred;
    }
    const Binned v(*src, width, height, p.binning, stage_threads);
    const bool direct = src->empty();  // binning 1, no PSF: the photons themselves
    r.int16.resize(out_pixels);
    r.pgm.resize(out_pixels);
    if (p.bits == 32) r.int32.resize(out_pixels);
    std::int64_t wrapped = 0, clipped32 = 0;
    for (std::size_t i = 0; i < out_pixels; ++i) {
      double adu = (direct ? double(photon(i)) : v[i]) * p.gain + p.adc;
      if (p.saturation > 0.0 && adu > p.saturation) adu = p.saturation;
      if (adu > int32_ceiling) adu = int32_ceiling;
      const double adu16 = adu > int16_ceiling ? int16_ceiling : adu;
      if (adu <= -1.0 && !corrected) ++wrapped;
      r.int16[i] = cast16(adu16, corrected);
      if (p.bits == 32) {
        // The C clips the 32-bit noiseless image at 65535 too (N8); corrected keeps the full range.
        if (adu > int16_ceiling && !corrected) ++clipped32;
        r.int32[i] = cast32(corrected ? adu : adu16, corrected);
      }
      r.pgm[i] = std::uint8_t(r.int16[i] > 255 ? 255 : r.int16[i]);
    }
    r.wrapped_noiseless = wrapped, r.clipped32 = clipped32;
    if (noiseless_done) noiseless_done(r);
  };
  if (!with_noise) {
    noiseless(p.threads);
    return r;
  }
  std::exception_ptr side_error;
  std::thread side;
  if (threads > 1) {
    side = std::thread([&] {
      try {
        noiseless(1);
      } catch (...) {
        side_error = std::current_exception();
      }
    });
  } else {
    noiseless(1);
  }
  // Joins the side thread on every way out of this function, exceptions included.
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join{side};

  // Pass 2's pixel (L607-L637): gain, adc, read-out noise, clipping, casts.
  if (p.bits == 16) r.noise16.resize(out_pixels);
  if (p.bits == 32) r.noise32.resize(out_pixels);
  const double sat = p.saturation;
  const int bits = p.bits;
  long overloads = 0;
  std::int64_t wrapped = 0;
  // adu = n*gain + adc, then adu += readout*gaussdev: added in that order.
  auto pixel = [&](std::size_t i, double counts, double noise) {
    double adu = counts * p.gain + p.adc + noise;
    if (sat > 0.0 && adu > sat) adu = sat, ++overloads;
    if (adu > int32_ceiling) {
      adu = int32_ceiling;
      if (bits == 32) ++overloads;
    }
    if (bits == 32) r.noise32[i] = cast32(adu, corrected);
    if (adu > int16_ceiling) {
      adu = int16_ceiling;
      if (bits == 16) ++overloads;
    }
    if (bits == 16) r.noise16[i] = cast16(adu, corrected);
    if (adu <= -1.0 && !corrected) ++wrapped;
  };
  const bool readout = p.readout > 0.0;
  // Without a PSF, binning or read-out noise, pass 2 needs nothing but this pixel's count (and no
  // draw), so it runs inside pass 1 and the counts are never stored.
  const bool fused = p.psf.type == PsfType::none && p.binning == 1 && !readout;

  // Pass 1 (L571-L590): flicker, calibration error and Poisson deviates, one pixel after another
  // from the two streams that share one ran1 table and one Gaussian spare (N3).
  RandomState st;
  long idum = seed, calib = p.calib_idum;
  std::vector<float> counts(fused ? 0 : pixels);
  double sum = 0.0;
  const double flicker = p.flicker, calibration = p.calibration;
  // Without flicker, the next pixel's mean is known before this pixel's draws whenever its
  // calibration deviate is the Gaussian spare now held (or there is no calibration error): its
  // Poisson set-up is computed here, where it overlaps these draws instead of waiting for them.
  float ahead_mean = NAN;  // NaN matches no mean
  draws::PoissonSetup ahead;
  for (std::size_t i = 0; i < pixels; ++i) {
    double photons0 = photon(i);
    if (flicker > 0.0) photons0 *= (1.0 + flicker * draws::gaussdev(idum, st));
    if (calibration > 0.0) photons0 *= (1.0 + calibration * draws::gaussdev(calib, st));
    const float mean = float(photons0);
    const bool mean_ahead = mean == ahead_mean;
    const draws::PoissonSetup setup = mean_ahead ? ahead : draws::PoissonSetup{};
    if (flicker == 0.0 && i + 1 < pixels && (calibration == 0.0 || st.gauss_iset)) {
      double next = photon(i + 1);
      if (calibration > 0.0) next *= (1.0 + calibration * st.gauss_gset);
      ahead_mean = float(next);
      if (ahead_mean <= 1.0e6f) ahead = draws::poisson_setup(ahead_mean);
      else ahead_mean = NAN;
    } else {
      ahead_mean = NAN;
    }
    float n;
    if (corrected && !(mean > 0.0f)) {
      n = 0.0f;  // no photons from a negative (or NaN) mean, and no draw
    } else {
      if (i == 0 && mean == -1.0f) r.first_mean_minus1 = true;
      n = draws::poidev(mean, idum, st, [&] { return mean_ahead ? setup : draws::poisson_setup(mean); });
    }
    if (mean > 1.0e6f) {
      ++r.poisson_gaussian;
      if (corrected) n = n > 0.0f ? float(std::floor(double(n) + 0.5)) : 0.0f;
    }
    sum += n;
    if (fused) pixel(i, double(n), 0.0);
    else counts[i] = n;
  }
  r.photons_before_psf = sum;
  if (side.joinable()) side.join();
  if (side_error) std::rethrow_exception(side_error);

  if (fused) {
    r.photons = sum;
  } else {
    // PSF on the photon counts, before read-out noise (N5).
    std::vector<float> blurred;
    const std::vector<float>* src = &counts;
    if (p.psf.type != PsfType::none) {
      r.noise_psf = apply_psf(counts.data(), width, height, p.psf, blurred, p.threads);
      src = &blurred;
    }
    const Binned v(*src, width, height, p.binning, p.threads);
    // Pass 2 (L607-L637), the read-out noise drawn in pixel order after every Poisson deviate.
    double total = 0.0;
    for (std::size_t i = 0; i < out_pixels; ++i) {
      total += v[i];
      pixel(i, v[i], readout ? p.readout * draws::gaussdev(idum, st) : 0.0);
    }
    r.photons = total;
  }
  r.overloads = overloads;
  r.wrapped_noise = wrapped;

  // Hot pixels read the ceiling, dead ones 0 (beyond the C; each from its own seeded stream).
  if (!(p.hot_fraction > 0.0) && !(p.dead_fraction > 0.0)) return r;
  const std::vector<char> hot = pixel_set(out_pixels, p.hot_fraction, p.hot_seed);
  const std::vector<char> dead = pixel_set(out_pixels, p.dead_fraction, p.dead_seed);
  const double ceiling = sat > 0.0 ? sat : (bits == 32 ? int32_ceiling : int16_ceiling);
  for (std::size_t i = 0; i < out_pixels; ++i) {
    if (!hot[i] && !dead[i]) continue;
    const double value = dead[i] ? 0.0 : ceiling;
    if (dead[i]) ++r.dead;
    else ++r.hot;
    if (bits == 16) r.noise16[i] = std::uint16_t(value > int16_ceiling ? int16_ceiling : value);
    if (bits == 32) r.noise32[i] = std::uint32_t(value);
  }
  return r;
}

}  // namespace nanobragg::noisify
