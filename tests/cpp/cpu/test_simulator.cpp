/// The run object (simulator.hpp): every update gives the image of a new Simulator built with the
/// new settings, bit for bit; an update rebuilds only the tables it touches (revisions); the
/// structure-factor table is shared with the kernel, never copied; traces read the same tables.
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/io/hkl.hpp"
#include "nanobragg/simulator.hpp"

namespace nb = nanobragg;

namespace {
constexpr double kDeg = M_PI / 180.0;

nb::Options base() {
  nb::Options o;
  o.fpixels = 24, o.spixels = 20;
  o.pixel_size = 0.2e-3;
  o.distance = 60e-3;
  o.user_cell = true;
  const double cell[6] = {40, 45, 50, 88 * kDeg, 92 * kDeg, 95 * kDeg};
  for (int i = 0; i < 6; ++i) o.cell[i] = cell[i];
  o.misset_mode = 1, o.misset[0] = 10 * kDeg, o.misset[1] = -5 * kDeg, o.misset[2] = 30 * kDeg;
  o.Na = o.Nb = o.Nc = 4;
  o.mosaic_spread = 0.4 * kDeg, o.mosaic_domains = 3;
  o.default_F = 0;
  return o;
}

std::shared_ptr<const nb::FTableData> table() {
  std::vector<double> rows;
  for (int h = -6; h <= 6; ++h)
    for (int k = -6; k <= 6; ++k)
      for (int l = -6; l <= 6; ++l) rows.insert(rows.end(), {double(h), double(k), double(l), 10.0 + h + 2 * k - l});
  return std::make_shared<const nb::FTableData>(nb::dense_table(rows, 1.0));
}

std::vector<double> render(nb::Simulator& sim, bool single = false) {
  std::vector<double> img(std::size_t(sim.prepared().det.fpixels) * sim.prepared().det.spixels);
  sim.render(img.data(), single, 1);
  return img;
}

/// The image of a Simulator built afresh with opt and axes.
std::vector<double> fresh(const nb::Options& opt, const std::optional<nb::CellAxes>& axes = std::nullopt) {
  nb::Simulator sim(opt, table(), nb::SourceList{}, {}, axes);
  return render(sim);
}

void expect_same(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double peak = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i], b[i]) << what << " pixel " << i;
    peak = std::max(peak, a[i]);
  }
  EXPECT_GT(peak, 0.0) << what << ": an empty image would compare equal too";
}
}  // namespace

TEST(Simulator, EachUpdateEqualsAFreshSimulator) {
  nb::Simulator sim(base(), table(), nb::SourceList{});
  expect_same(render(sim), fresh(base()), "as built");
  struct Change {
    const char* what;
    void (*apply)(nb::Options&);
  };
  const Change changes[] = {
      {"misset", [](nb::Options& o) { o.misset[0] = 40 * kDeg, o.misset[2] = -12 * kDeg; }},
      {"phi start, range, steps", [](nb::Options& o) { o.phi0 = 3 * kDeg, o.osc = 1 * kDeg, o.phisteps = 3; }},
      {"mosaic spread and seed", [](nb::Options& o) { o.mosaic_spread = 1.1 * kDeg, o.mosaic_seed = -77; }},
      {"crystal size", [](nb::Options& o) { o.Na = 7, o.Nb = 3, o.Nc = 5; }},
      {"wavelength", [](nb::Options& o) { o.lambda0 = 1.4e-10; }},
      {"fluence", [](nb::Options& o) { o.fluence = 3e29; }},
      {"distance", [](nb::Options& o) { o.distance = 45e-3; }},
      {"beam centre", [](nb::Options& o) { o.Xbeam = 1.5e-3, o.Ybeam = 2.5e-3; }},
      {"dispersion", [](nb::Options& o) { o.dispersion = 0.02, o.dispsteps = 3; }},
  };
  for (const Change& c : changes) {
    nb::Options o = base();
    c.apply(o);
    sim.update(o);
    expect_same(render(sim), fresh(o), c.what);
    sim.update(base());  // and back
    expect_same(render(sim), fresh(base()), c.what);
  }
}

TEST(Simulator, AxesUpdateEqualsAFreshSimulatorWithThoseAxes) {
  nb::Simulator sim(base(), table(), nb::SourceList{});
  // The axes of another misset, given directly.
  nb::Options other = base();
  other.misset[1] = 25 * kDeg;
  nb::Simulator ref(other, table(), nb::SourceList{});
  const nb::CellAxes axes = {ref.prepared().crystal.a, ref.prepared().crystal.b, ref.prepared().crystal.c};
  sim.update(base(), axes);
  expect_same(render(sim), fresh(base(), axes), "axes");
  sim.update(base());  // back to cell + misset
  expect_same(render(sim), fresh(base()), "axes removed");
}

TEST(Simulator, UpdatesRebuildOnlyWhatTheyTouch) {
  nb::Simulator sim(base(), table(), nb::SourceList{});
  const auto sources = sim.sources_revision(), cells = sim.cells_revision();
  sim.update(base());  // nothing changed
  EXPECT_EQ(sim.sources_revision(), sources);
  EXPECT_EQ(sim.cells_revision(), cells);
  nb::Options o = base();
  o.misset[0] = 1 * kDeg;
  sim.update(o);  // crystal only: the sources stay
  EXPECT_EQ(sim.sources_revision(), sources);
  EXPECT_GT(sim.cells_revision(), cells);
  o.lambda0 = 1.2e-10;
  sim.update(o);  // the beam: set-up again, sources too
  EXPECT_GT(sim.sources_revision(), sources);
}

TEST(Simulator, StructureFactorTableIsSharedNotCopied) {
  const auto F = table();
  nb::Simulator sim(base(), F, nb::SourceList{});
  EXPECT_EQ(sim.structure_factors().get(), F.get());
  EXPECT_EQ(sim.params<double>().F.values, F->values.data());  // the float64 kernel reads it in place
  nb::Options o = base();
  o.distance = 70e-3;
  sim.update(o);  // a full re-derivation keeps the same table
  EXPECT_EQ(sim.structure_factors().get(), F.get());
  EXPECT_EQ(sim.params<double>().F.values, F->values.data());
  EXPECT_NE(sim.params<float>().F.values, nullptr);
}

TEST(Simulator, FailedUpdateLeavesTheRunAsItWas) {
  nb::Simulator sim(base(), table(), nb::SourceList{});
  const std::vector<double> before = render(sim);
  nb::Options other = base();
  other.misset[0] = 50 * kDeg;
  const nb::CellAxes degenerate = {nb::Vec3d{1e-9, 0, 0}, nb::Vec3d{2e-9, 0, 0}, nb::Vec3d{0, 0, 1e-9}};
  EXPECT_THROW(sim.update(other, degenerate), std::invalid_argument);
  expect_same(render(sim), before, "after a failed update");
  EXPECT_EQ(sim.options().misset[0], base().misset[0]);
}

TEST(Simulator, TraceIsThePixelOfTheRender) {
  nb::Simulator sim(base(), table(), nb::SourceList{});
  const std::vector<double> img = render(sim);
  for (int s : {0, 7, 19}) {
    for (int f : {0, 11, 23}) {
      double value = -1;
      sim.trace(f, s, f == 0 && s == 0, true, false, value);
      EXPECT_EQ(value, double(float(img[std::size_t(s) * 24 + f]))) << f << "," << s;
    }
  }
  double v = 0;
  EXPECT_THROW(sim.trace(24, 0, false, true, false, v), std::invalid_argument);
}

TEST(Simulator, MaskMustMatchTheDetector) {
  EXPECT_THROW(nb::Simulator(base(), table(), nb::SourceList{}, std::vector<std::uint16_t>(7, 1)),
               std::invalid_argument);
  std::vector<std::uint16_t> mask(24 * 20, 1);
  mask[5] = 0;
  nb::Simulator sim(base(), table(), nb::SourceList{}, mask);
  EXPECT_EQ(render(sim)[5], 0.0);
}

TEST(SameOptions, CrystalFieldsAreTheOnlyOnesThatSkipTheSetUp) {
  nb::Options a = base(), b = base();
  EXPECT_TRUE(nb::same_options(a, b));
  b.mosaic_seed = -5;
  EXPECT_FALSE(nb::same_options(a, b));
  EXPECT_TRUE(nb::differ_only_in_crystal(a, b));
  b.distance = 1;
  EXPECT_FALSE(nb::differ_only_in_crystal(a, b));
  nb::Options n1 = base(), n2 = base();
  n1.Xbeam = n2.Xbeam = nb::kUnset;
  EXPECT_TRUE(nb::same_options(n1, n2));  // NaN ("not given") equals NaN
}
