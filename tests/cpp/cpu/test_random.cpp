/// The Numerical Recipes generators of random.hpp (ran1, gaussdev, gammln, poidev) and the random
/// rotations built on them, against values recorded from nanoBragg.c (BEHAVIOUR.md 12.6).
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/random.hpp"
#include "nanobragg/setup.hpp"

namespace nb = nanobragg;

// Unless stated otherwise, every number below was recorded from nanoBragg.c at commit 455534a
// (gcc, x86-64) by calling its functions directly. The generators return float, so float values
// are compared exactly: a port that differs in any draw or in float/double rounding fails.

TEST(Ran1, SequenceFromDefaultMosaicSeed) {
  nb::RandomState st;
  long seed = -12345678;
  const float expected[8] = {0.765989304f, 0.023453664f, 0.589726627f, 0.535101593f,
                             0.982231438f, 0.693016112f, 0.328146875f, 0.29564169f};
  for (float e : expected) EXPECT_EQ(nb::ran1(&seed, st), e);
  EXPECT_GT(seed, 0);  // reseeding stores the positive state
}

TEST(Ran1, SequenceFromMinusOne) {
  nb::RandomState st;
  long seed = -1;
  const float expected[5] = {0.415999353f, 0.091964893f, 0.75641048f, 0.52970022f, 0.930436492f};
  for (float e : expected) EXPECT_EQ(nb::ran1(&seed, st), e);
}

TEST(Ran1, NegativeSeedReloadsSharedTable) {
  // A stream stored negative reseeds on its first draw whatever the shared table held (Q16).
  nb::RandomState st;
  long other = -777;
  for (int i = 0; i < 10; ++i) nb::ran1(&other, st);
  long seed = -1;
  EXPECT_EQ(nb::ran1(&seed, st), 0.415999353f);
  // A positive seed continues from the shared table instead: the same state gives the same draw.
  nb::RandomState a = st, b = st;
  long sa = seed, sb = seed;
  EXPECT_EQ(nb::ran1(&sa, a), nb::ran1(&sb, b));
  EXPECT_EQ(nb::ran1(&sa, a), 0.75641048f);
}

TEST(Ran1, StaysInOpenUnitInterval) {
  nb::RandomState st;
  long seed = -42;
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    const float r = nb::ran1(&seed, st);
    ASSERT_GT(r, 0.0f);
    ASSERT_LT(r, 1.0f);
    sum += r;
  }
  EXPECT_NEAR(sum / 20000, 0.5, 0.01);
}

TEST(Gaussdev, SequenceFromMinusThree) {
  nb::RandomState st;
  long seed = -3;
  const float expected[6] = {0.135182321f, 0.923467577f, 0.480101764f, 1.43830156f, -0.453017205f, 0.405614704f};
  for (float e : expected) EXPECT_EQ(nb::gaussdev(&seed, st), e);
}

TEST(Gammln, KnownValues) {
  // ln Gamma(1) = 0, ln Gamma(4) = ln 6; the others recorded from the C.
  EXPECT_EQ(nb::gammln(1.0f), 0.0f);
  EXPECT_EQ(nb::gammln(4.0f), 1.79175949f);
  EXPECT_NEAR(nb::gammln(4.0f), std::log(6.0), 1e-6);
  EXPECT_EQ(nb::gammln(10.5f), 13.9406252f);
  EXPECT_EQ(nb::gammln(1001.0f), 5912.12842f);
}

TEST(Poidev, OneStreamSeededMinusSeven) {
  // BEHAVIOUR.md 12.6: means 0, 0.5, 3, 11.9, 20, 1000 in turn on one stream.
  nb::RandomState st;
  long seed = -7;
  const float means[6] = {0.0f, 0.5f, 3.0f, 11.9f, 20.0f, 1000.0f};
  const float expected[6] = {0, 0, 3, 15, 15, 1007};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(nb::poidev(means[i], &seed, st), expected[i]) << "mean " << means[i];
}

TEST(Poidev, GaussianBranchAboveOneMillion) {
  // Means above 1e6 take m + sqrt(m) gaussdev (not an integer); the small ones still use ran1.
  nb::RandomState st;
  long seed = -11;
  const float means[5] = {2e6f, 2e6f, 5.0f, 50.0f, 7.5e6f};
  const float expected[5] = {1999645.25f, 1999179.25f, 3.0f, 43.0f, 7497084.5f};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(nb::poidev(means[i], &seed, st), expected[i]) << "call " << i;
}

TEST(Poidev, MeanOfManyDraws) {
  nb::RandomState st;
  long seed = -2024;
  const int n = 20000;
  double sum_small = 0, sum_large = 0;
  for (int i = 0; i < n; ++i) sum_small += nb::poidev(2.5f, &seed, st);
  for (int i = 0; i < n; ++i) sum_large += nb::poidev(40.0f, &seed, st);
  // Standard error sqrt(m/n): 0.011 and 0.045; allow about 5 of them.
  EXPECT_NEAR(sum_small / n, 2.5, 0.06);
  EXPECT_NEAR(sum_large / n, 40.0, 0.25);
}

TEST(MosaicRotation, DomainsForOneDegree) {
  // Spread 1 degree as the C holds it (1/RTD, passed as float), seed -12345678.
  const float spread = float(1.0 / (180.0 * M_1_PI));
  const double expected[3][9] = {
      {0.99986449752590911, 0.016451908512331283, -0.00056682763088982736, -0.01645463317913215,
       0.99985112005937082, -0.005194493523134629, 0.00048128390941530775, 0.0052031165971526822,
       0.99998634787854723},
      {0.99986368592193575, -0.01594877166007503, 0.0042715637810345434, 0.015952848100370585,
       0.99987232016945238, -0.00092195251648568416, -0.0042563143783279477, 0.00098997044952826353,
       0.99999045182762714},
      {0.9999657443853005, 0.0056663083387967425, 0.0060334903465161967, -0.0057336742754520043,
       0.99992075868632402, 0.011207199804992794, -0.0059695087951054712, -0.011241409963865434,
       0.99991899455244349}};
  nb::RandomState st;
  long seed = -12345678;
  for (int d = 0; d < 3; ++d) {
    double u[9];
    nb::mosaic_rotation_umat(spread, u, &seed, st);
    for (int i = 0; i < 9; ++i) EXPECT_DOUBLE_EQ(u[i], expected[d][i]) << "domain " << d << " element " << i;
    // A rotation: rows orthonormal, angle within the spread.
    EXPECT_NEAR(u[0] * u[0] + u[1] * u[1] + u[2] * u[2], 1.0, 1e-14);
    EXPECT_NEAR(u[0] * u[3] + u[1] * u[4] + u[2] * u[5], 0.0, 1e-14);
    EXPECT_LE(std::acos((u[0] + u[4] + u[8] - 1) / 2), double(spread) + 1e-12);
  }
}

TEST(MosaicRotation, PreparedDomainsDiscardTheFirstDraw) {
  // Q16: domain 0 consumes its three draws and is then the identity; domain 1 is the second
  // matrix of the stream (BEHAVIOUR.md 12.6).
  nb::Options o;
  o.fpixels = o.spixels = 8;
  o.user_cell = true;
  o.cell[0] = o.cell[1] = o.cell[2] = 100;
  o.cell[3] = o.cell[4] = o.cell[5] = M_PI / 2;
  o.mosaic_spread = 1.0 / (180.0 * M_1_PI);
  o.mosaic_domains = 3;
  const nb::Prepared p = nb::prepare(o, nb::FTableData{}, nb::SourceList{});
  ASSERT_EQ(p.mosaic_umats.size(), 27u);
  const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(p.mosaic_umats[i], identity[i]);
  const double d1[9] = {0.999863685922, -0.015948771660, 0.004271563781, 0.015952848100, 0.999872320169,
                        -0.000921952516, -0.004256314378, 0.000989970450, 0.999990451828};
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(p.mosaic_umats[9 + i], d1[i], 5e-13);
  EXPECT_DOUBLE_EQ(p.mosaic_umats[18], 0.9999657443853005);
  EXPECT_DOUBLE_EQ(p.mosaic_umats[26], 0.99991899455244349);
}

TEST(Umat2Misset, RandomMissetSeedFive) {
  // -misset random -misset_seed 5: a 90 "radian" cap from seed -5, then umat2misset.
  nb::RandomState st;
  long seed = -5;
  double u[9], m[3];
  nb::mosaic_rotation_umat(90.0f, u, &seed, st);
  nb::umat2misset(u, m);
  EXPECT_DOUBLE_EQ(m[0], 2.4808890162610591);
  EXPECT_DOUBLE_EQ(m[1], 0.96122625151371643);
  EXPECT_DOUBLE_EQ(m[2], 0.61551355601098034);
  const double rtd = 180.0 * M_1_PI;
  EXPECT_NEAR(m[0] * rtd, 142.144470, 5e-7);
  EXPECT_NEAR(m[1] * rtd, 55.074207, 5e-7);
  EXPECT_NEAR(m[2] * rtd, 35.266329, 5e-7);
}

TEST(Umat2Misset, InvertsRotateXyz) {
  // U = Rz Ry Rx: the angles come back, and rotating by them reproduces U's action.
  const double rx = 0.3, ry = -0.5, rz = 1.1;
  double u[9];
  for (int c = 0; c < 3; ++c) {
    nb::Vec3d e{c == 0 ? 1.0 : 0.0, c == 1 ? 1.0 : 0.0, c == 2 ? 1.0 : 0.0};
    const nb::Vec3d col = nb::rotate_xyz(e, rx, ry, rz);
    u[c] = col.x, u[3 + c] = col.y, u[6 + c] = col.z;
  }
  double m[3];
  nb::umat2misset(u, m);
  EXPECT_NEAR(m[0], rx, 1e-14);
  EXPECT_NEAR(m[1], ry, 1e-14);
  EXPECT_NEAR(m[2], rz, 1e-14);
}

TEST(Umat2Misset, MatchesCForAnotherSeed) {
  nb::RandomState st;
  long seed = -99;
  double u[9], m[3];
  nb::mosaic_rotation_umat(90.0f, u, &seed, st);
  EXPECT_DOUBLE_EQ(u[0], 0.25779257832139268);
  EXPECT_DOUBLE_EQ(u[5], -0.25815883884438928);
  EXPECT_DOUBLE_EQ(u[7], 0.97444262688208794);
  nb::umat2misset(u, m);
  EXPECT_DOUBLE_EQ(m[0], 1.5420571530957339);
  EXPECT_DOUBLE_EQ(m[1], -0.2247709633282127);
  EXPECT_DOUBLE_EQ(m[2], -1.3031683150299234);
}
