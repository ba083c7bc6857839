/// tan_pi (tan_pi.hpp), poidev's fast float(tan(M_PI * u)), against the libm call it replaces: the
/// same float bits over every float u of a few binades and a large sample of all of (0, 1), the
/// fast value's error far inside the margin its check assumes, and the fallback taken where the
/// band around the fast value reaches a rounding boundary.
#include <cmath>
#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

#include "nanobragg/tan_pi.hpp"

namespace nb = nanobragg;

namespace {
std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
float float_of(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
float libm_tan_pi(float u) { return float(std::tan(M_PI * double(u))); }

// Checks every step-th float in [lo, hi); returns how many were checked.
long check_range(float lo, float hi, std::uint32_t step) {
  long n = 0;
  for (std::uint32_t b = bits_of(lo); b < bits_of(hi); b += step, ++n) {
    const float u = float_of(b);
    const float want = libm_tan_pi(u), got = nb::tan_pi(u);
    if (bits_of(want) != bits_of(got)) {
      ADD_FAILURE() << "u = " << std::hexfloat << u << ": libm " << want << ", tan_pi " << got;
      return n;
    }
  }
  return n;
}
}  // namespace

TEST(TanPi, EveryFloatNearTheReductionPoints) {
  // Each binade boundary of the reduction (pi/4, pi/2, 3pi/4 at u = 0.25, 0.5, 0.75), the pole
  // at u = 0.5 and both ends of (0, 1): every float within 2^18 steps of each.
  for (float centre : {0.25f, 0.5f, 0.75f, 1.0f}) {
    const std::uint32_t c = bits_of(centre);
    EXPECT_EQ(check_range(float_of(c - (1u << 18)), centre == 1.0f ? centre : float_of(c + (1u << 18)), 1),
              centre == 1.0f ? (1L << 18) : (1L << 19));
  }
  EXPECT_EQ(check_range(4.0e-10f, float_of(bits_of(4.0e-10f) + (1u << 18)), 1), 1L << 18);
}

TEST(TanPi, LargeSampleOfTheUnitInterval) {
  // About 13 million floats spread over every binade ran1 can return (it never goes below 2^-31).
  const long n = check_range(4.0e-10f, 1.0f, 19);
  EXPECT_GT(n, 13000000);
}

TEST(TanPi, FastValueWellInsideTheCheckedMargin) {
  // The check assumes the fast value within 2^-40 (relative) of libm's; it is within ~2^-51.
  double worst = 0.0;
  for (std::uint32_t b = bits_of(4.0e-10f); b < bits_of(1.0f); b += 997) {
    const double x = M_PI * double(float_of(b));
    const double libm = std::tan(x);
    worst = std::fmax(worst, std::fabs(nb::tan_0_to_pi(x) - libm) / std::fabs(libm));
  }
  EXPECT_LT(worst, 0x1p-49);
}

TEST(TanPi, FallbackWhereTheBandMeetsARoundingBoundary) {
  // Floats u whose fast value lies within 2^-40 of a float rounding boundary, or on a power of two:
  // found by search, each must still give libm's bits (through the libm call).
  long near_boundary = 0;
  for (std::uint32_t b = bits_of(0.001f); b < bits_of(0.999f) && near_boundary < 20; b += 3) {
    const float u = float_of(b);
    const double t = nb::tan_0_to_pi(M_PI * double(u));
    const float f = float(t);
    const double spacing = double(std::nextafter(std::fabs(f), INFINITY)) - double(std::fabs(f));
    const double to_boundary = spacing / 2 - std::fabs(t - double(f));
    if (to_boundary > std::fabs(t) * 0x1p-40) continue;
    ++near_boundary;
    EXPECT_EQ(bits_of(nb::tan_pi(u)), bits_of(libm_tan_pi(u))) << std::hexfloat << u;
  }
  EXPECT_EQ(near_boundary, 20);
  for (float power : {0.25f, 1.0f, 2.0f, 1024.0f}) {  // tan(pi u) = power for u near atan(power)/pi
    const float u = float(std::atan(double(power)) / M_PI);
    EXPECT_EQ(bits_of(nb::tan_pi(u)), bits_of(libm_tan_pi(u))) << power;
  }
}
