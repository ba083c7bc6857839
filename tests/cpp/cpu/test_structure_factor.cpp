/// Structure-factor lookup of core/structure_factor.hpp: polint, tricubic interpolate_F on tables
/// filled with polynomials, the C's out-of-range test at the table edges, and nearest_F.
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/core/structure_factor.hpp"

namespace nb = nanobragg;

namespace {
// A table over [-4, 4] x [-3, 5] x [-5, 3], padded by one plane per axis as the C stores it.
struct Table {
  std::vector<double> values;
  nb::FTable<double> t{};

  template <typename Fn>
  Table(Fn fn, double default_F = 0.0) {
    t.h_min = -4, t.h_max = 4, t.k_min = -3, t.k_max = 5, t.l_min = -5, t.l_max = 3;
    t.h_range = t.h_max - t.h_min + 1, t.k_range = t.k_max - t.k_min + 1, t.l_range = t.l_max - t.l_min + 1;
    values.assign(std::size_t(t.h_range + 1) * (t.k_range + 1) * (t.l_range + 1), -999.0);
    for (int h = t.h_min; h <= t.h_max; ++h)
      for (int k = t.k_min; k <= t.k_max; ++k)
        for (int l = t.l_min; l <= t.l_max; ++l)
          values[(std::size_t(h - t.h_min) * (t.k_range + 1) + (k - t.k_min)) * (t.l_range + 1) + (l - t.l_min)] =
              fn(h, k, l);
    t.values = values.data();
    t.hkls = std::int64_t(t.h_range) * t.k_range * t.l_range;
    t.default_F = default_F;
  }
};

// Cubic in each index separately (tensor degree 3), which 4-point Lagrange reproduces exactly.
double tricubic(double h, double k, double l) {
  return 3.0 + 0.5 * h - 0.25 * k * k + 0.1 * l * l * l + 0.05 * h * k * l - 0.02 * h * h * h * k * k * l +
         0.01 * h * h * h * k * k * k * l * l * l;
}
}  // namespace

TEST(Polint, ReproducesACubic) {
  auto p = [](double x) { return 2.0 - 1.5 * x + 0.75 * x * x - 0.125 * x * x * x; };
  const double xa[4] = {-1, 0, 1, 2};
  const double ya[4] = {p(-1), p(0), p(1), p(2)};
  for (double x : {-1.0, -0.5, 0.0, 0.37, 1.0, 1.99, 2.0, 2.5}) EXPECT_NEAR(nb::polint(xa, ya, x), p(x), 1e-13) << x;
  // Unequally spaced nodes too.
  const double xb[4] = {-2.0, 0.5, 1.0, 4.0};
  const double yb[4] = {p(-2.0), p(0.5), p(1.0), p(4.0)};
  EXPECT_NEAR(nb::polint(xb, yb, 2.2), p(2.2), 1e-12);
}

TEST(Polint, PassesThroughNodesAndMatchesC) {
  const double xa[4] = {-1, 0, 1, 2}, ya[4] = {2.0, -1.5, 0.25, 3.0};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(nb::polint(xa, ya, xa[i]), ya[i]);
  // Recorded from nanoBragg.c polint() at commit 455534a.
  EXPECT_DOUBLE_EQ(nb::polint(xa, ya, 0.37), -1.2381833750000002);
}

TEST(FTable, IndexingIncludesThePadding) {
  const Table tab([](int h, int k, int l) { return 100.0 * h + 10.0 * k + l; });
  EXPECT_EQ(tab.t.at(-4, -3, -5), -400.0 - 30.0 - 5.0);
  EXPECT_EQ(tab.t.at(4, 5, 3), 400.0 + 50.0 + 3.0);
  EXPECT_EQ(tab.t.at(1, -2, 0), 80.0);
  // With the padding each h plane is (k_range+1)(l_range+1) long: the padded slot is never written.
  EXPECT_EQ(tab.values[std::size_t(tab.t.l_range)], -999.0);
}

TEST(InterpolateF, ReproducesTrilinearPolynomial) {
  auto f = [](double h, double k, double l) { return 1.0 + 2.0 * h - 3.0 * k + 0.5 * l + 0.25 * h * k * l; };
  const Table tab(f);
  for (double h : {-2.0, -1.3, 0.0, 0.5, 1.99}) {
    for (double k : {-1.0, 0.25, 2.7}) {
      for (double l : {-2.5, 0.0, 0.8}) EXPECT_NEAR(nb::interpolate_F(tab.t, h, k, l), f(h, k, l), 1e-12);
    }
  }
}

TEST(InterpolateF, ReproducesTricubicPolynomial) {
  const Table tab(tricubic);
  for (double h : {-1.75, -0.5, 0.3, 1.5, 2.0}) {
    for (double k : {-0.9, 0.6, 1.5, 2.2}) {
      for (double l : {-2.9, -1.1, 0.45}) {
        const double expected = tricubic(h, k, l);
        EXPECT_NEAR(nb::interpolate_F(tab.t, h, k, l), expected, 1e-11 * (1 + std::fabs(expected)))
            << h << " " << k << " " << l;
      }
    }
  }
}

TEST(InterpolateF, ExactAtNodesAndNotNearestNeighbour) {
  const Table tab(tricubic);
  EXPECT_NEAR(nb::interpolate_F(tab.t, 1.0, 2.0, -1.0), tab.t.at(1, 2, -1), 1e-12);
  // Half way between nodes the interpolant differs from both neighbours.
  const double mid = nb::interpolate_F(tab.t, 0.5, 0.0, 0.0);
  EXPECT_NE(mid, tab.t.at(0, 0, 0));
  EXPECT_NE(mid, tab.t.at(1, 0, 0));
}

TEST(InterpolateF, FloatTableAgrees) {
  std::vector<float> values;
  nb::FTable<float> t{};
  t.h_min = t.k_min = t.l_min = -3;
  t.h_max = t.k_max = t.l_max = 3;
  t.h_range = t.k_range = t.l_range = 7;
  values.assign(8 * 8 * 8, 0.0f);
  for (int h = -3; h <= 3; ++h)
    for (int k = -3; k <= 3; ++k)
      for (int l = -3; l <= 3; ++l) values[((h + 3) * 8 + (k + 3)) * 8 + (l + 3)] = float(1 + h - 2 * k + l * l);
  t.values = values.data();
  t.hkls = 343;
  EXPECT_NEAR(nb::interpolate_F(t, 0.5f, 0.25f, -0.5f), 1 + 0.5f - 0.5f + 0.25f, 1e-5f);
}

TEST(InterpolateF, WeightedFormAgreesWithPolint) {
  const Table tab(tricubic);
  for (double h : {-2.0, -1.3, 0.0, 0.5, 1.99}) {
    for (double k : {-1.0, 0.25, 2.7}) {
      for (double l : {-2.5, -0.01, 0.8}) {
        const double ref = nb::interpolate_F(tab.t, h, k, l);
        EXPECT_NEAR(nb::interpolate_F_weighted(tab.t, h, k, l), ref, 1e-12 * std::fabs(ref) + 1e-12);
        EXPECT_NEAR(nb::interpolate_F_weighted(tab.t, h, k, l), tricubic(h, k, l), 1e-9);
      }
    }
  }
}

TEST(FloorSmall, EqualsFloor) {
  for (double x : {-3.5, -2.0, -1.0000001, -0.5, -1e-300, -0.0, 0.0, 0.25, 0.5, 0.9999999, 1.0, 7.5, 1e15 + 0.5}) {
    EXPECT_EQ(nb::floor_small(x), std::floor(x)) << x;
  }
  for (float x : {-3.5f, -2.0f, -1.0000001f, -0.5f, 0.0f, 0.25f, 0.5f, 0.99999994f, 1.0f, 4194303.5f}) {
    EXPECT_EQ(nb::floor_small(x), std::floor(x)) << x;
  }
}

// interpolate_F_lanes() gives each lane exactly what interpolate_F_weighted() gives it alone.
template <typename Real>
void expect_lanes_match_scalar(const nb::FTable<Real>& t) {
  constexpr int W = 8;
  const Real h[W] = {Real(-2.0), Real(-1.3), Real(0.0), Real(0.5), Real(1.99), Real(2.0), Real(-0.75), Real(1.0)};
  const Real k[W] = {Real(-1.0), Real(0.25), Real(2.7), Real(3.0), Real(-0.5), Real(1.5), Real(0.1), Real(2.2)};
  const Real l[W] = {Real(-2.5), Real(0.0), Real(0.8), Real(-3.0), Real(1.0), Real(-1.25), Real(0.3), Real(-2.9)};
  Real F[W];
  ASSERT_TRUE((nb::interpolate_F_lanes<Real, W>(t, h, k, l, F)));
  for (int w = 0; w < W; ++w) EXPECT_EQ(F[w], nb::interpolate_F_weighted(t, h[w], k[w], l[w])) << "lane " << w;
}

TEST(InterpolateFLanes, SameAsOneLaneAtATime) {
  const Table tab(tricubic);
  expect_lanes_match_scalar(tab.t);
  std::vector<float> values(tab.values.begin(), tab.values.end());
  nb::FTable<float> t{values.data(), tab.t.h_min, tab.t.h_max, tab.t.k_min, tab.t.k_max, tab.t.l_min, tab.t.l_max,
                      tab.t.h_range, tab.t.k_range, tab.t.l_range, tab.t.hkls, 0.0f};
  expect_lanes_match_scalar(t);
}

TEST(InterpolateFLanes, DeclinesWhenAnyLaneLeavesTheTable) {
  const Table tab(tricubic);
  constexpr int W = 4;
  const double e = 1e-9;
  double h[W] = {0.0, 1.0, -1.0, 2.0}, k[W] = {1.0, 1.0, 1.0, 1.0}, l[W] = {-1.0, -1.0, -1.0, -1.0};
  double F[W] = {-7, -7, -7, -7};
  EXPECT_TRUE((nb::interpolate_F_lanes<double, W>(tab.t, h, k, l, F)));
  for (double& v : F) v = -7;
  h[3] = 2.0 + e;  // one lane just outside (the C's test), the others inside
  EXPECT_FALSE((nb::interpolate_F_lanes<double, W>(tab.t, h, k, l, F)));
  h[3] = 2.0, l[1] = -3.0 - e;
  EXPECT_FALSE((nb::interpolate_F_lanes<double, W>(tab.t, h, k, l, F)));
  l[1] = -1.0, k[0] = std::nan("");  // the C's test lets NaN through; the lanes decline it
  EXPECT_FALSE((nb::interpolate_F_lanes<double, W>(tab.t, h, k, l, F)));
  for (double v : F) EXPECT_EQ(v, -7);  // nothing written when declining
}

TEST(InterpolationRange, EdgesPerAxis) {
  // h in [-4, 4], h_range 9: in range iff h - h_min + 3 <= h_range and h - 2 >= h_min, i.e.
  // -2 <= h <= 2 (the four nodes floor(h)-1 .. floor(h)+2 then lie inside the table).
  const Table tab(tricubic);
  const nb::FTable<double>& t = tab.t;
  const double e = 1e-9;
  EXPECT_FALSE(nb::interpolation_out_of_range(t, 0.0, 1.0, -1.0));
  EXPECT_FALSE(nb::interpolation_out_of_range(t, 2.0, 1.0, -1.0));
  EXPECT_TRUE(nb::interpolation_out_of_range(t, 2.0 + e, 1.0, -1.0));
  EXPECT_FALSE(nb::interpolation_out_of_range(t, -2.0, 1.0, -1.0));
  EXPECT_TRUE(nb::interpolation_out_of_range(t, -2.0 - e, 1.0, -1.0));
  // k in [-3, 5]: in range for -1 <= k <= 3.
  EXPECT_FALSE(nb::interpolation_out_of_range(t, 0.0, 3.0, -1.0));
  EXPECT_TRUE(nb::interpolation_out_of_range(t, 0.0, 3.0 + e, -1.0));
  EXPECT_FALSE(nb::interpolation_out_of_range(t, 0.0, -1.0, -1.0));
  EXPECT_TRUE(nb::interpolation_out_of_range(t, 0.0, -1.0 - e, -1.0));
  // l in [-5, 3]: in range for -3 <= l <= 1.
  EXPECT_FALSE(nb::interpolation_out_of_range(t, 0.0, 1.0, 1.0));
  EXPECT_TRUE(nb::interpolation_out_of_range(t, 0.0, 1.0, 1.0 + e));
  EXPECT_FALSE(nb::interpolation_out_of_range(t, 0.0, 1.0, -3.0));
  EXPECT_TRUE(nb::interpolation_out_of_range(t, 0.0, 1.0, -3.0 - e));
  // At the extreme in-range corner the interpolation only reads real table entries.
  EXPECT_NEAR(nb::interpolate_F(t, 2.0, 3.0, 1.0), tricubic(2, 3, 1), 1e-9);
  EXPECT_NEAR(nb::interpolate_F(t, -2.0, -1.0, -3.0), tricubic(-2, -1, -3), 1e-9);
}

TEST(NearestF, InsideTableAndDefaultOutside) {
  const Table tab([](int h, int k, int l) { return 100.0 * h + 10.0 * k + l; }, 7.5);
  const nb::FTable<double>& t = tab.t;
  EXPECT_EQ(nb::nearest_F(t, 0, 0, 0), 0.0);
  EXPECT_EQ(nb::nearest_F(t, 4, 5, 3), 453.0);
  EXPECT_EQ(nb::nearest_F(t, -4, -3, -5), -435.0);
  EXPECT_EQ(nb::nearest_F(t, 5, 0, 0), 7.5);
  EXPECT_EQ(nb::nearest_F(t, -5, 0, 0), 7.5);
  EXPECT_EQ(nb::nearest_F(t, 0, 6, 0), 7.5);
  EXPECT_EQ(nb::nearest_F(t, 0, -4, 0), 7.5);
  EXPECT_EQ(nb::nearest_F(t, 0, 0, 4), 7.5);
  EXPECT_EQ(nb::nearest_F(t, 0, 0, -6), 7.5);
}

TEST(NearestF, NoTableMeansDefaultEverywhere) {
  nb::FTable<double> t{};
  t.values = nullptr;
  t.hkls = 0;
  t.default_F = 3.25;
  // Never dereferences the null table.
  EXPECT_EQ(nb::nearest_F(t, 0, 0, 0), 3.25);
  EXPECT_EQ(nb::nearest_F(t, 100, -100, 7), 3.25);
}
