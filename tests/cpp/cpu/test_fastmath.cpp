// The fast lattice path (core/fastmath.hpp) against the libm forms it replaces.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "nanobragg/core/fastmath.hpp"
#include "nanobragg/core/lattice.hpp"

namespace nb = nanobragg;

TEST(FastMath, SinpiReducedMatchesLibm) {
  for (int i = -500; i <= 500; ++i) {
    const double r = i / 1000.0;  // the reduced range [-0.5, 0.5]
    EXPECT_NEAR(nb::sinpi_reduced(r), std::sin(M_PI * r), 4e-16) << r;
    EXPECT_NEAR(nb::sinpi_reduced(float(r)), std::sin(M_PI * r), 3e-7) << r;
  }
  EXPECT_EQ(nb::sinpi_reduced(0.0), 0.0);
}

TEST(FastMath, RoundHalfDownIsTheCsCeilOfXMinusHalf) {
  const double xs[] = {2.5, -2.5, 3.5, -3.5, 0.5, -0.5, 0.0, 1.49999999, -7.2, 1e6 + 0.5, 12.7};
  for (double x : xs) EXPECT_EQ(nb::round_half_down(x), std::ceil(x - 0.5)) << x;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1e4, 1e4);
  for (int i = 0; i < 10000; ++i) {
    const double x = u(rng);
    EXPECT_EQ(nb::round_half_down(x), std::ceil(x - 0.5)) << x;
  }
}

TEST(FastMath, SincgOffsetEqualsSincgUpToSign) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-30.0, 30.0);
  for (double n : {1.0, 2.0, 5.0, 6.0, 17.0}) {
    for (int i = 0; i < 2000; ++i) {
      const double h = u(rng);
      const double d = h - std::ceil(h - 0.5);
      const double ref = std::fabs(nb::sincg(M_PI * h, n));
      // The C's direct form loses accuracy near nodes (pi*h is rounded); compare where it is sound.
      if (std::fabs(d) < 1e-6) continue;
      EXPECT_NEAR(std::fabs(nb::sincg_offset(d, n)), ref, 1e-10 * n) << "h=" << h << " N=" << n;
    }
    EXPECT_EQ(nb::sincg_offset(0.0, n), n);  // sincg's value at a node
  }
}
