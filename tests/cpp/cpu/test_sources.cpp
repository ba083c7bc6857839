/// Sampling resolution and generated sources (resolve_sampling, build_sources via prepare()):
/// divergence grids with round and square trimming, dispersion wavelengths, unit directions
/// (BEHAVIOUR.md 7.2-7.4), against counts and directions recorded from nanoBragg.c.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/setup.hpp"

namespace nb = nanobragg;

namespace {
// A small MOSFLM detector and a cubic cell, enough for prepare() to run.
nb::Options base() {
  nb::Options o;
  o.fpixels = o.spixels = 16;
  o.user_cell = true;
  o.cell[0] = o.cell[1] = o.cell[2] = 100;
  o.cell[3] = o.cell[4] = o.cell[5] = M_PI / 2;
  return o;
}

nb::Prepared prep(const nb::Options& o, const nb::SourceList& list = {}) {
  return nb::prepare(o, nb::FTableData{}, list);
}

// -hdivrange 0.2 -hdivstep 0.05 -vdivrange 0.2 -vdivstep 0.05 (mrad) -dispersion 10 -dispsteps 3.
nb::Options divergent() {
  nb::Options o = base();
  o.hdivrange = o.vdivrange = 0.2e-3;
  o.hdivstep = o.vdivstep = 0.05e-3;
  o.dispersion = 0.10;
  o.dispsteps = 3;
  return o;
}

void expect_unit_directions(const nb::Prepared& p) {
  ASSERT_EQ(p.source_dir.size(), 3 * p.source_lambda.size());
  for (std::size_t i = 0; i < p.source_lambda.size(); ++i) {
    const double* d = &p.source_dir[3 * i];
    EXPECT_NEAR(d[0] * d[0] + d[1] * d[1] + d[2] * d[2], 1.0, 1e-15) << "source " << i;
  }
}
}  // namespace

TEST(Sources, SingleSourceByDefault) {
  const nb::Prepared p = prep(base());
  ASSERT_EQ(p.source_lambda.size(), 1u);
  EXPECT_EQ(p.source_lambda[0], 1e-10);
  // Sample to source: against the MOSFLM beam (+x).
  EXPECT_EQ(p.source_dir[0], -1.0);
  EXPECT_EQ(p.source_dir[1], 0.0);
  EXPECT_EQ(p.source_dir[2], 0.0);
  EXPECT_EQ(p.sampling.divsteps, 1);
}

TEST(Sources, RoundDivergenceTrimsTheGrid) {
  // Recorded from nanoBragg.c at commit 455534a: 4 x 4 grid (n = ceil(R/step), asymmetric,
  // Q30), 11 kept by the elliptical trim, times 3 wavelengths = 33 sources.
  const nb::Prepared p = prep(divergent());
  EXPECT_EQ(p.sampling.hdivsteps, 4);
  EXPECT_EQ(p.sampling.vdivsteps, 4);
  EXPECT_EQ(p.sampling.divsteps, 11);
  ASSERT_EQ(p.source_lambda.size(), 33u);
  expect_unit_directions(p);
  // Innermost loop is dispersion: lambda0 (1 + k step - D/2) for k = 0, 1, 2.
  for (std::size_t i = 0; i < 33; i += 3) {
    EXPECT_NEAR(p.source_lambda[i], 0.95e-10, 1e-24);
    EXPECT_NEAR(p.source_lambda[i + 1], 1.00e-10, 1e-24);
    EXPECT_NEAR(p.source_lambda[i + 2], 1.05e-10, 1e-24);
    // The three wavelengths share one direction.
    EXPECT_EQ(p.source_dir[3 * i], p.source_dir[3 * (i + 2)]);
  }
  // Directions recorded from the C (after its unitize).
  const double first[3] = {-0.99999999499999992, 0, 9.9999999833333343e-05};
  const double fourth[3] = {-0.99999999750000002, 4.9999999979166658e-05, 4.9999999916666665e-05};
  const double on_axis[3] = {-1, 0, 0};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(p.source_dir[c], first[c], 1e-16);
    EXPECT_NEAR(p.source_dir[3 * 3 + c], fourth[c], 1e-16);
    EXPECT_NEAR(p.source_dir[3 * 18 + c], on_axis[c], 1e-16);
  }
  // Normalisation count (7.4): sources * domains * phisteps * oversample^2.
  EXPECT_EQ(p.sampling.steps, 33L * p.sampling.oversample * p.sampling.oversample);
}

TEST(Sources, SquareDivergenceKeepsTheWholeGrid) {
  nb::Options o = divergent();
  o.round_div = false;
  const nb::Prepared p = prep(o);
  EXPECT_EQ(p.sampling.divsteps, 16);
  ASSERT_EQ(p.source_lambda.size(), 48u);
  expect_unit_directions(p);
  // Recorded from the C: the (-R/2, -R/2) corner comes first.
  EXPECT_NEAR(p.source_dir[0], -0.99999999000000006, 1e-16);
  EXPECT_NEAR(p.source_dir[1], 9.9999999833333343e-05, 1e-16);
  EXPECT_NEAR(p.source_dir[2], 9.9999999333333345e-05, 1e-16);
}

TEST(Sources, EvenCountsWithRangeOnly) {
  // Recorded from the C: -hdivsteps 4 -vdivsteps 4 -hdivrange 0.3 -vdivrange 0.3 keeps 12 of 16
  // (the four corners are trimmed) with step R/(n-1) = 0.1 mrad.
  nb::Options o = base();
  o.hdivsteps = o.vdivsteps = 4;
  o.hdivrange = o.vdivrange = 0.3e-3;
  const nb::Prepared p = prep(o);
  EXPECT_NEAR(p.sampling.hdivstep, 0.1e-3, 1e-18);
  EXPECT_EQ(p.sampling.divsteps, 12);
  ASSERT_EQ(p.source_lambda.size(), 12u);
  expect_unit_directions(p);
  EXPECT_NEAR(p.source_dir[0], -0.99999998750000008, 1e-16);
  EXPECT_NEAR(p.source_dir[1], 4.9999999979166658e-05, 1e-16);
  EXPECT_NEAR(p.source_dir[2], 0.00014999999924999999, 1e-16);
  EXPECT_NEAR(p.source_dir[3 * 5 + 1], -0.00014999999943749996, 1e-16);
}

TEST(Sources, SymmetricOddGridAndRadius) {
  // 5 x 5 grid over +-0.1 mrad (count and range given, step R/(n-1)): with u, w in
  // {-1, -0.5, 0, 0.5, 1} half-ranges the round trim keeps u^2 + w^2 <= 1.1, 13 of 25 points
  // (nanoBragg.c at commit 455534a agrees: 13 round, 25 with -square_div).
  nb::Options o = base();
  o.hdivsteps = o.vdivsteps = 5;
  o.hdivrange = o.vdivrange = 0.2e-3;
  const nb::Prepared p = prep(o);
  EXPECT_EQ(p.sampling.divsteps, 13);
  // No kept source lies further from the beam than the half-range (small-angle composition of
  // the two rotations: second-order slack only).
  for (std::size_t i = 0; i < p.source_lambda.size(); ++i) {
    const double angle = std::acos(-p.source_dir[3 * i]);
    EXPECT_LE(angle, 0.1e-3 + 1e-9);
  }
  o.round_div = false;
  EXPECT_EQ(prep(o).sampling.divsteps, 25);
}

TEST(Sources, DispersionOnlyWavelengths) {
  nb::Options o = base();
  o.lambda0 = 1.5e-10;
  o.dispersion = 0.02;
  o.dispsteps = 5;
  const nb::Prepared p = prep(o);
  ASSERT_EQ(p.source_lambda.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(p.source_lambda[k], 1.5e-10 * (1 + 0.005 * k - 0.01), 1e-24);
  // dispsteps alone (no range) gives no spread (BEHAVIOUR.md 7.2).
  nb::Options q = base();
  q.dispsteps = 5;
  EXPECT_EQ(prep(q).source_lambda.size(), 1u);
}

TEST(Sources, ExplicitListFillsMissingValues) {
  // NaN coordinates default to the beam source position, NaN wavelengths to lambda0.
  nb::SourceList list;
  list.xyz = {std::nan(""), std::nan(""), std::nan(""), -3.0, 4.0, 0.0};
  list.lambda = {std::nan(""), 1.2e-10};
  const nb::Prepared p = prep(base(), list);
  ASSERT_EQ(p.source_lambda.size(), 2u);
  EXPECT_EQ(p.source_lambda[0], 1e-10);
  EXPECT_EQ(p.source_lambda[1], 1.2e-10);
  EXPECT_NEAR(p.source_dir[0], -1.0, 1e-15);
  EXPECT_NEAR(p.source_dir[3], -0.6, 1e-15);
  EXPECT_NEAR(p.source_dir[4], 0.8, 1e-15);
  EXPECT_NEAR(p.source_raw_xyz[0], -10.0, 1e-15);
  expect_unit_directions(p);
}

TEST(Sampling, CountRangeStepRules) {
  std::vector<std::string> w;
  nb::Options o;
  // Step only: range = step, two steps.
  o.hdivstep = 0.05e-3;
  nb::Sampling s = nb::resolve_sampling(o, w);
  EXPECT_EQ(s.hdivsteps, 2);
  EXPECT_EQ(s.hdivrange, 0.05e-3);
  // Count only: 1 radian range (Q30).
  o = nb::Options{};
  o.vdivsteps = 4;
  s = nb::resolve_sampling(o, w);
  EXPECT_EQ(s.vdivrange, 1.0);
  EXPECT_EQ(s.vdivstep, 0.25);
  // Count 1 with a range becomes 2.
  o = nb::Options{};
  o.hdivsteps = 1;
  o.hdivrange = 0.3e-3;
  s = nb::resolve_sampling(o, w);
  EXPECT_EQ(s.hdivsteps, 2);
  EXPECT_EQ(s.hdivstep, 0.3e-3);
  // Nothing given: one step of zero range.
  s = nb::resolve_sampling(nb::Options{}, w);
  EXPECT_EQ(s.hdivsteps, 1);
  EXPECT_EQ(s.hdivrange, 0.0);
  EXPECT_EQ(s.dispsteps, 1);
}

TEST(Sampling, MosaicAndThicknessDefaults) {
  std::vector<std::string> w;
  nb::Options o;
  o.mosaic_spread = 0.01;
  nb::Sampling s = nb::resolve_sampling(o, w);
  EXPECT_EQ(s.mosaic_domains, 10);  // finite spread, no count: 10 domains with a warning
  EXPECT_FALSE(w.empty());
  o = nb::Options{};
  o.detector_thick = 100e-6;
  w.clear();
  s = nb::resolve_sampling(o, w);
  // Q5: without a count, two layers of T/2; mu defaults to 1/T.
  EXPECT_EQ(s.thicksteps, 2);
  EXPECT_EQ(s.thickstep, 50e-6);
  EXPECT_EQ(s.mu, 1.0 / 100e-6);
  o.detector_thicksteps = 5;
  s = nb::resolve_sampling(o, w);
  EXPECT_EQ(s.thicksteps, 5);
  EXPECT_EQ(s.thickstep, 100e-6 / 4);  // with a count, T/(n-1)
}

TEST(Sources, WeightsAreIgnoredUnlessAskedAndEqualWeightsGiveExactlyOne) {
  nb::SourceList list;
  list.xyz = {-10, 0, 0, -10, 0.01, 0, -10, 0, 0.01};
  list.lambda = {1e-10, 1.1e-10, 0.9e-10};
  list.weight = {0.3, 0.3, 0.3};
  EXPECT_TRUE(prep(base(), list).source_weight.empty());  // the C ignores them (Q17)
  nb::Options o = base();
  o.use_source_weights = true;
  EXPECT_EQ(prep(o, list).source_weight, std::vector<double>(3, 1.0));
  list.weight = {1.0, 2.0, 3.0};
  const std::vector<double> w = prep(o, list).source_weight;
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0], 0.5);
  EXPECT_DOUBLE_EQ(w[1], 1.0);
  EXPECT_DOUBLE_EQ(w[2], 1.5);
  list.weight = {1.0, -1.0, 1.0};
  EXPECT_THROW(prep(o, list), std::invalid_argument);
}

TEST(Sources, ASpectrumReplacesTheDispersionWavelengthsOfEveryDirection) {
  nb::Options o = divergent();
  o.dispersion = 0, o.dispsteps = -1;
  const std::size_t directions = prep(o).source_lambda.size();
  nb::SourceList list;
  list.spectrum_lambda = {1.0e-10, 1.01e-10};
  list.spectrum_weight = {3.0, 1.0};
  const nb::Prepared p = prep(o, list);
  ASSERT_EQ(p.source_lambda.size(), 2 * directions);
  EXPECT_EQ(p.sampling.dispsteps, 2);
  EXPECT_EQ(p.record.dispersion_lambdas, list.spectrum_lambda);
  for (std::size_t i = 0; i < p.source_lambda.size(); ++i) {
    EXPECT_EQ(p.source_lambda[i], list.spectrum_lambda[i % 2]);
    EXPECT_DOUBLE_EQ(p.source_weight[i], i % 2 ? 0.5 : 1.5);
  }
  list.spectrum_weight = {3.0, 0.0};
  EXPECT_THROW(prep(o, list), std::invalid_argument);
  list.spectrum_weight = {3.0, 1.0};
  list.lambda = {1e-10}, list.xyz = {-10, 0, 0};
  EXPECT_THROW(prep(o, list), std::invalid_argument);  // a spectrum and a -sourcefile
}
