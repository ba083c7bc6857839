// noisify's native chain: PSF kernels, the banded scatter against a serial reading of the C,
// the C's integer casts of negative values, and poidev's cache quirk (NOISIFY.md 6.6, 7, 8.1).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "nanobragg/noisify/detector_response.hpp"
#include "nanobragg/noisify/psf.hpp"
#include "nanobragg/random.hpp"

using namespace nanobragg;
using namespace nanobragg::noisify;

TEST(NoisifyPsf, GaussKernelHasUnitVolume) {
  const auto k = psf_kernel(PsfType::gauss, 2.0, 12);
  EXPECT_NEAR(std::accumulate(k.begin(), k.end(), 0.0), 1.0, 1e-9);
  const int size = 25;
  EXPECT_NEAR(k[size * 12 + 11], k[size * 12 + 13], 1e-15);  // symmetric in dx (to rounding)
  EXPECT_NEAR(k[size * 11 + 12], k[size * 13 + 12], 1e-15);  // and dy
}

TEST(NoisifyPsf, FiberKernelHasLongTails) {
  const auto k = psf_kernel(PsfType::fiber, 2.0, 20);
  const double sum = std::accumulate(k.begin(), k.end(), 0.0);
  EXPECT_GT(sum, 0.9);
  EXPECT_LT(sum, 1.0);
  EXPECT_GT(k[41 * 20 + 0], 0.0);  // still non-zero at the rim (dy = 0, dx = -20)
}

namespace {
// The C's scatter loop (L875-L919) read literally, serial, for comparison.
std::vector<float> serial_psf(const std::vector<float>& in, int w, int h, double fwhm, int R) {
  const int P = w * h, K = 2 * R + 1;
  const auto kernel = psf_kernel(PsfType::gauss, fwhm, R);
  std::vector<float> out(P + 10, 0.0f);
  double total = 0;
  for (int i = 0; i < P; ++i) {
    if (in[i] <= 0.0) continue;
    const int x0 = i % w, y0 = i / w;
    double rsq = R;
    rsq = rsq / fwhm;
    rsq = rsq * rsq;
    total += in[i] * std::exp(-std::log(16.0) * rsq);
    for (int dx = -R; dx <= R; ++dx)
      for (int dy = -R; dy <= R; ++dy) {
        const int k = K * (K / 2 + dy) + K / 2 + dx;
        if (kernel[k] == 0.0 || dx * dx + dy * dy > R * R) continue;
        const int x = x0 + dx, y = y0 + dy;
        if (x < 0 || x > w || y < 0 || y > h) continue;
        const int j = y * w + x;
        if (j < 0 || j > P) continue;
        out[j] += in[i] * kernel[k];
      }
  }
  for (int i = 0; i < P; ++i) out[i] += total / P;
  out.resize(P);
  return out;
}
}  // namespace

TEST(NoisifyPsf, BandsEqualTheSerialLoopBitForBit) {
  const int w = 37, h = 53;
  std::vector<float> in(w * h);
  for (int i = 0; i < w * h; ++i) in[i] = float((i * 7919) % 101) * 3.5f;
  in[5 * w + w - 1] = 9000.0f;  // a bright pixel on the right edge: wraps onto the next row
  const auto want = serial_psf(in, w, h, 1.7, 4);
  for (int threads : {1, 2, 5}) {
    std::vector<float> out;
    const PsfReport rep = apply_psf(in.data(), w, h, {PsfType::gauss, 1.7, 4, false}, out, threads);
    EXPECT_GT(rep.edge_wrapped, 0);
    ASSERT_EQ(out.size(), want.size());
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], want[i]) << "pixel " << i << ", threads " << threads;
  }
  std::vector<float> fixed;
  EXPECT_EQ(apply_psf(in.data(), w, h, {PsfType::gauss, 1.7, 4, true}, fixed).edge_wrapped, 0);
  EXPECT_LT(fixed[6 * w], want[6 * w]);  // column 0 of the next row no longer gets the edge light
}

TEST(NoisifyPsf, NanRadiusIsRefusedUnlessCorrected) {
  std::vector<float> in(64, 0.005f), out;  // automatic Gaussian radius: log of a ratio > 1
  EXPECT_THROW(apply_psf(in.data(), 8, 8, {PsfType::gauss, 2.0, 0, false}, out), std::invalid_argument);
  EXPECT_NO_THROW(apply_psf(in.data(), 8, 8, {PsfType::gauss, 2.0, 0, true}, out));
}

TEST(NoisifyCasts, NegativeValuesWrapAsOnX86) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> in = {-3.0f, -70000.0f, -0.7f, nan, -5e9f, 1e5f};
  ResponseParams p;
  p.adc = 0.0;
  p.bits = 32;
  const ResponseImages r = detector_response(in.data(), 6, 1, p, -1, false);
  EXPECT_EQ(r.int16, (std::vector<std::uint16_t>{65533, 61072, 0, 0, 0, 65535}));
  EXPECT_EQ(r.int32[0], 4294967293u);
  EXPECT_EQ(r.int32[5], 65535u);  // the C clips the noiseless 32-bit image at 65535 (N8)
  p.corrected = true;
  const ResponseImages c = detector_response(in.data(), 6, 1, p, -1, false);
  EXPECT_EQ(c.int16, (std::vector<std::uint16_t>{0, 0, 0, 0, 0, 65535}));
  EXPECT_EQ(c.int32[5], 100000u);
}

TEST(NoisifyCasts, ThirtyTwoBitKeepsTheLowBitsOfA64BitTruncation) {
  const std::vector<float> in = {0.0f};
  ResponseParams p;
  p.adc = -5e9;  // no photons from a mean of 0, so both images hold the adc
  p.bits = 32;
  p.calibration = 0.0;
  const ResponseImages r = detector_response(in.data(), 1, 1, p, -1, true);
  EXPECT_EQ(r.noise32[0], 3589934592u);
  EXPECT_EQ(r.int32[0], 3589934592u);
  EXPECT_EQ(r.int16[0], 0u);  // outside the 32-bit range: the "integer indefinite", low bits 0
}

TEST(NoisifyRandom, FirstPoissonMeanOfMinusOneUsesTheUnsetCache) {
  RandomState st;
  long idum = -25;
  EXPECT_EQ(poidev(-1.0f, &idum, st), 121.0f);  // noisify.c, nz_negative_first_minus1_quirk
  EXPECT_EQ(poidev(-0.5f, &idum, st), 0.0f);
  EXPECT_EQ(poidev(-1.0f, &idum, st), 0.0f);   // the cache now holds exp(1)
}

namespace {
// noisify.c's passes 1 and 2 read literally (L571-L637, no PSF): one deviate after another
// through the public generators, each Poisson set-up recomputed where the C's cache misses.
std::vector<std::uint16_t> serial_noise16(const std::vector<float>& in, const ResponseParams& p, long seed) {
  RandomState st;
  long idum = seed, calib = p.calib_idum;
  std::vector<float> counts(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    double photons0 = float(p.photon_factor * double(in[i]));
    if (p.flicker > 0.0) photons0 *= (1.0 + p.flicker * gaussdev(&idum, st));
    if (p.calibration > 0.0) photons0 *= (1.0 + p.calibration * gaussdev(&calib, st));
    counts[i] = poidev(float(photons0), &idum, st);
  }
  std::vector<std::uint16_t> out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    double adu = counts[i] * p.gain + p.adc;
    if (p.readout > 0.0) adu += p.readout * gaussdev(&idum, st);
    adu = std::min(adu, 65535.0);
    out[i] = std::uint16_t(std::uint32_t(std::int32_t(adu)));
  }
  return out;
}
}  // namespace

TEST(NoisifyRandom, PassOneEqualsTheSerialReadingOfTheC) {
  // Means on both sides of 12 (direct and rejection methods), repeated means (the cache hits),
  // a few above 1e6 (Gaussian, drawing the shared spare) and zeros: with and without the
  // calibration error (whose spare lets the next set-up be computed early), with flicker (which
  // never does), and with read-out noise (pass 2 drawn after pass 1, not fused into it).
  std::vector<float> in(20000);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double x = double(i % 997) / 997.0;
    in[i] = i % 89 == 5 ? 2.0e6f : (i % 13 == 0 ? 0.0f : float(40.0 * x * x * (i % 3 == 0 ? 1.0 : 0.2)));
    if (i % 101 == 50) in[i] = in[i - 1];
  }
  for (int variant = 0; variant < 4; ++variant) {
    ResponseParams p;
    p.threads = 1;
    p.calibration = variant == 1 ? 0.0 : 0.03;
    p.flicker = variant == 2 ? 0.02 : 0.0;
    p.readout = variant == 3 ? 3.0 : 0.0;
    const ResponseImages r = detector_response(in.data(), 200, 100, p, -7, true);
    EXPECT_EQ(r.noise16, serial_noise16(in, p, -7)) << "variant " << variant;
  }
}

TEST(NoisifyScan, EqualsTheLiteralLoopOnEveryKindOfFloat) {
  // scan_input works on the float bits; the C's loop reads doubles. Random bit patterns (NaN of
  // both signs, infinities, zeros of both signs, subnormals) and the floats around 0.01, in
  // lengths that leave partial blocks.
  std::vector<float> in;
  std::uint32_t x = 12345;
  for (int i = 0; i < 300000; ++i) {
    x = x * 1664525u + 1013904223u;
    float f;
    const std::uint32_t bits = i % 3 == 0 ? x : (x & 0x807fffffu) | ((x >> 9 & 1) ? 0x3c000000u : 0x7f800000u);
    std::memcpy(&f, &bits, sizeof f);
    in.push_back(f);
  }
  for (float f : {0.0f, -0.0f, 0.01f, std::nextafter(0.01f, 1.0f), std::nextafter(0.01f, 0.0f), 1e-45f, -1e-45f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN()}) {
    in.push_back(f);
  }
  for (std::size_t n : {std::size_t(0), std::size_t(7), in.size()}) {
    InputScan want;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = in[i];
      if (want.max_I < v) want.max_I = v;
      if (v < 0.0) want.negatives.push_back(in[i]);
      if (!std::isfinite(v)) ++want.nonfinite;
      if (v > 0.0 && v < 0.01) ++want.below_001;
    }
    const InputScan got = scan_input(in.data(), std::int64_t(n));
    EXPECT_EQ(got.max_I, want.max_I);
    EXPECT_EQ(got.negatives, want.negatives);
    EXPECT_EQ(got.nonfinite, want.nonfinite);
    EXPECT_EQ(got.below_001, want.below_001);
  }
}
