/// float(tan(M_PI * u)) for a uniform deviate u, as poidev's rejection loop computes it, with the
/// libm result's float bits but mostly without the libm call (glibc's tan is the slowest call of
/// noisify's draw chain).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace nanobragg {

/// tan(x) for x in [0, pi]: reduced by k * pi/2 (k = 0, 1, 2; each subtraction exact by
/// Sterbenz, pi/2 carried as two doubles) to |r| <= pi/4, then Cephes' rational P(r^2)/Q(r^2).
/// Relative error below 2^-51 over the floats u of (0, 1) (tests/cpp/cpu/test_tan_pi.cpp).
inline double tan_0_to_pi(double x) {
  constexpr double pio2_hi = 1.5707963267948966192e0;    // the double nearest pi/2
  constexpr double pio2_lo = 6.1232339957367660359e-17;  // pi/2 - pio2_hi
  const int k = x < 0.78539816339744830962 ? 0 : (x > 2.35619449019234492885 ? 2 : 1);
  const double r = (x - k * pio2_hi) - k * pio2_lo;
  const double z = r * r;
  const double p = (-1.30936939181383777646e4 * z + 1.15351664838587416140e6) * z - 1.79565251976484877988e7;
  const double q = (((z + 1.36812963470692954678e4) * z - 1.32089234440210967447e6) * z + 2.50083801823357915839e7) *
                       z - 5.38695755929454629881e7;
  const double rq = r * (q + z * p);  // tan(r) = rq / q; tan(r + pi/2) = -q / rq
  return k == 1 ? -q / rq : rq / q;
}

/// float(std::tan(M_PI * u)), bit for bit. The fast value t is within |t| * 2^-40 of the libm
/// result (both are within 2^-51 of tan); if that whole band lies strictly inside the interval of
/// reals that round to float(t), so does the libm result. Otherwise (about 1 call in 2^15, or a
/// power-of-two float whose interval is lopsided) libm decides.
inline float tan_pi(float u) {
  const double x = M_PI * double(u);
  if (u > 0.0f && u < 1.0f) {
    const double t = tan_0_to_pi(x);
    const float f = float(t);
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    const std::uint32_t magnitude = bits & 0x7fffffffu, exponent = magnitude & 0x7f800000u;
    // Not a power of two, and normal with a normal half-ulp 2^(e-24) (every f here is > 1e-9).
    if ((magnitude & 0x7fffffu) != 0 && exponent >= (25u << 23) && exponent < 0x7f800000u) {
      const std::uint32_t half_ulp_bits = exponent - (24u << 23);
      float half_ulp;
      std::memcpy(&half_ulp, &half_ulp_bits, sizeof half_ulp);
      if (std::fabs(t - double(f)) + std::fabs(t) * 0x1p-40 < double(half_ulp)) return f;
    }
  }
  return float(std::tan(x));
}

}  // namespace nanobragg
