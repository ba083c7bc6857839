/// Lattice shape factors of core/lattice.hpp: sincg, sinc3 and lattice_factor() for the square,
/// round, Gaussian and top-hat crystal shapes at and near reciprocal-lattice nodes.
#include <cmath>

#include <gtest/gtest.h>

#include "nanobragg/core/lattice.hpp"

namespace nb = nanobragg;

namespace {
nb::LatticeParams<double> params(nb::CrystalShape shape, double Na, double Nb, double Nc) {
  nb::LatticeParams<double> p{};
  p.shape = shape;
  p.Na = Na, p.Nb = Nb, p.Nc = Nc;
  p.fudge = 1.0;
  // A 100 x 50 x 25 A orthorhombic cell: |a*| = 0.01, |b*| = 0.02, |c*| = 0.04 1/A.
  p.a_star = {0.01, 0, 0};
  p.b_star = {0, 0.02, 0};
  p.c_star = {0, 0, 0.04};
  return p;
}

double F(const nb::LatticeParams<double>& p, double h, double k, double l) {
  return nb::lattice_factor(p, h, k, l, int(std::ceil(h - 0.5)), int(std::ceil(k - 0.5)), int(std::ceil(l - 0.5)));
}
}  // namespace

TEST(Sincg, LimitAtZeroIsN) {
  EXPECT_EQ(nb::sincg(0.0, 7.0), 7.0);
  EXPECT_EQ(nb::sincg(0.0, 1.0), 1.0);
  EXPECT_EQ(nb::sincg(0.0f, 12.0f), 12.0f);
}

TEST(Sincg, NearIntegerNodesTendToPlusMinusN) {
  // sin(N pi (h + e)) / sin(pi (h + e)) -> (-1)^(h (N-1)) N as e -> 0. Exactly at pi*h the ratio of
  // two rounding residues is meaningless, so evaluate 1e-7 away (relative error ~ N^2 e^2 and
  // ~1e-16 h / e from rounding pi*h): tolerance 1e-6 N.
  const double e = 1e-7;
  for (int N : {2, 3, 5, 10}) {
    for (int h : {-3, -1, 1, 2, 3, 7}) {
      const double expected = ((h * (N - 1)) % 2 == 0 ? 1.0 : -1.0) * N;
      EXPECT_NEAR(nb::sincg(M_PI * (h + e), double(N)), expected, 1e-6 * N) << "N=" << N << " h=" << h;
    }
  }
}

TEST(Sincg, ZerosBetweenNodes) {
  // sin(N x) vanishes at x = pi j / N for j not a multiple of N.
  EXPECT_NEAR(nb::sincg(M_PI / 5, 5.0), 0.0, 1e-14);
  EXPECT_NEAR(nb::sincg(M_PI * 2 / 5, 5.0), 0.0, 1e-14);
}

TEST(Sincg, MatchesNanoBraggC) {
  // Recorded from nanoBragg.c sincg() at commit 455534a.
  EXPECT_DOUBLE_EQ(nb::sincg(0.3, 7.0), 2.9209825493865296);
  EXPECT_NEAR(nb::sincg(M_PI * 2.25, 5.0), -0.99999999999999967, 1e-14);
}

TEST(Sinc3, LimitAndValues) {
  EXPECT_EQ(nb::sinc3(0.0), 1.0);
  // Series 1 - x^2/10 + x^4/280; the formula cancels ~x^2/3, so 1e-10 at x = 0.01.
  EXPECT_NEAR(nb::sinc3(0.01), 1.0 - 1e-4 / 10 + 1e-8 / 280, 1e-10);
  // Recorded from nanoBragg.c sinc3() at commit 455534a.
  EXPECT_DOUBLE_EQ(nb::sinc3(0.7), 0.95184976214474459);
  EXPECT_DOUBLE_EQ(nb::sinc3(4.1), 0.066968024392652176);
  // First zero of the sphere transform, tan x = x at x = 4.4934094579.
  EXPECT_NEAR(nb::sinc3(4.4934094579090642), 0.0, 1e-12);
}

TEST(LatticeFactor, SquareAtNodeAndOneDimensionSkipped) {
  const auto p = params(nb::CrystalShape::Square, 5, 4, 1);
  // At the origin every sincg returns N exactly; Nc = 1 is skipped (factor 1).
  EXPECT_EQ(F(p, 0, 0, 0), 20.0);
  // Near node (1, 2, 3): (-1)^(1*4) 5 * (-1)^(2*3) 4 = 20.
  EXPECT_NEAR(F(p, 1 + 1e-8, 2 + 1e-8, 3 + 0.37), 20.0, 1e-5);
  // Half way between nodes along a with Na = 5: sin(2.5 pi)/sin(0.5 pi) = 1.
  EXPECT_NEAR(F(p, 0.5, 0, 0), 4.0, 1e-12);
}

TEST(LatticeFactor, RoundAtNodeCarriesTheNormalisation) {
  const auto p = params(nb::CrystalShape::Round, 5, 4, 3);
  EXPECT_DOUBLE_EQ(F(p, 2, -1, 3), 5 * 4 * 3 * 0.723601254558268);
  // Off the node: NaNbNc * 0.7236 * sinc3(pi sqrt(dh^2 Na^2)).
  const double dh = 2.1 - 2;
  EXPECT_NEAR(F(p, 2.1, -1, 3), 60 * 0.723601254558268 * nb::sinc3(M_PI * std::sqrt(dh * dh * 25)), 1e-12);
  EXPECT_LT(F(p, 2.1, -1, 3), F(p, 2, -1, 3));
  // Fudge scales the radius squared.
  auto q = p;
  q.fudge = 4.0;
  EXPECT_NEAR(F(q, 2.05, -1, 3), F(p, 2.1, -1, 3), 1e-12);
}

TEST(LatticeFactor, GaussAtNodeAndItsWidth) {
  const auto p = params(nb::CrystalShape::Gauss, 5, 4, 3);
  EXPECT_EQ(F(p, 1, 1, 1), 60.0);
  // Q7: the exponent is |dh a* + dk b* + dl c*|^2 (1/A^2) * Na^2 Nb^2 Nc^2 / 0.63.
  const double dk = 0.2;
  const double r2 = (dk * 0.02) * (dk * 0.02) * 25 * 16 * 9;
  EXPECT_NEAR(F(p, 1, 1 + dk, 1), 60.0 * std::exp(-(r2 / 0.63)), 1e-12);
  EXPECT_LT(F(p, 1, 1 + dk, 1), 60.0);
  // The a* direction is half as long as b*: the same fractional offset along h decays less.
  EXPECT_GT(F(p, 1 + dk, 1, 1), F(p, 1, 1 + dk, 1));
}

TEST(LatticeFactor, TophatInsideAndOutside) {
  const auto p = params(nb::CrystalShape::Tophat, 5, 4, 3);
  EXPECT_EQ(F(p, -2, 0, 4), 60.0);
  // Inside while |d*|^2 Na^2 Nb^2 Nc^2 < 0.3969: along c*, dl^2 0.0016 * 3600 < 0.3969 -> dl < 0.2625.
  EXPECT_EQ(F(p, -2, 0, 4.26), 60.0);
  EXPECT_EQ(F(p, -2, 0, 4.27), 0.0);
}

TEST(LatticeFactor, FloatInstantiationAgrees) {
  nb::LatticeParams<float> p{};
  p.shape = nb::CrystalShape::Square;
  p.Na = 5, p.Nb = 4, p.Nc = 3, p.fudge = 1;
  EXPECT_EQ(nb::lattice_factor(p, 0.0f, 0.0f, 0.0f, 0, 0, 0), 60.0f);
  EXPECT_NEAR(nb::lattice_factor(p, 0.5f, 0.0f, 0.0f, 0, 0, 0), 12.0f, 1e-4f);
}
