/// pixel_block() in W = 8 and W = 16 SIMD lanes against W = 1 (pixel_intensity, the GPU's and the
/// row tails' kernel), pixel by pixel and bit for bit, in single and double precision, on cases
/// that each switch on one mode of the kernel: oversampling, mosaic domains, phi steps, tricubic
/// interpolation (covering the detector, and switching off part-way), point pixels, a curved
/// detector, Kahn polarization, sensor absorption, water, -dmin, the oversample_* products,
/// the other crystal shapes, divergence and dispersion, and exact_math.
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/core/kernel.hpp"
#include "nanobragg/sim_params.hpp"

namespace nb = nanobragg;

namespace {
constexpr int kPixels = 32;

nb::Options base() {
  nb::Options o;
  o.fpixels = o.spixels = kPixels;
  o.distance = 50e-3;
  o.user_cell = true;
  o.cell[0] = 100, o.cell[1] = 110, o.cell[2] = 120;
  o.cell[3] = o.cell[4] = o.cell[5] = M_PI / 2;
  o.misset_mode = 1;
  o.misset[0] = 0.3, o.misset[1] = -0.2, o.misset[2] = 0.5;
  o.Na = o.Nb = o.Nc = 5;
  o.default_F = 3.0;
  o.oversample = 1;
  return o;
}

// F = 10 + h + 2k + 3l over [-r, r]^3, padded by one plane per axis as the C stores it.
nb::FTableData table(int r) {
  nb::FTableData t;
  t.h_min = t.k_min = t.l_min = -r;
  t.h_max = t.k_max = t.l_max = r;
  const int n = 2 * r + 2;
  t.values.assign(std::size_t(n) * n * n, 0.0);
  for (int h = -r; h <= r; ++h)
    for (int k = -r; k <= r; ++k)
      for (int l = -r; l <= r; ++l)
        t.values[(std::size_t(h + r) * n + (k + r)) * n + (l + r)] = 10.0 + h + 2 * k + 3 * l;
  t.hkls = std::int64_t(2 * r + 1) * (2 * r + 1) * (2 * r + 1);
  return t;
}

struct Case {
  std::string name;
  std::function<void(nb::Options&)> change;
  int table_radius = 0;  // 0: no table (default_F everywhere)
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"plain", [](nb::Options&) {}},
      {"single_cell", [](nb::Options& o) { o.Na = o.Nb = o.Nc = 1; }},
      {"oversample", [](nb::Options& o) { o.oversample = 3; }},
      {"mosaic", [](nb::Options& o) { o.mosaic_spread = 0.5 * M_PI / 180, o.mosaic_domains = 7; }},
      {"phi", [](nb::Options& o) { o.phi0 = 0.1, o.osc = 0.2, o.phisteps = 4; }},
      {"nearest_F", [](nb::Options& o) { o.interpolate = 0; }, 4},
      {"tricubic", [](nb::Options& o) { o.interpolate = 1, o.Na = o.Nb = o.Nc = 2; }, 9},
      {"tricubic_switch_off", [](nb::Options& o) {
         o.interpolate = 1, o.Na = o.Nb = o.Nc = 2, o.cell[0] = o.cell[1] = o.cell[2] = 400;
       }, 1},
      {"point_pixel", [](nb::Options& o) { o.point_pixel = true; }},
      {"curved_detector", [](nb::Options& o) { o.curved_detector = true; }},
      {"kahn_polarization", [](nb::Options& o) { o.polarization = 0.6; }},
      {"nopolar", [](nb::Options& o) { o.nopolar = true; }},
      {"absorption", [](nb::Options& o) {
         o.detector_thick = 100e-6, o.detector_thicksteps = 3, o.detector_mu = 1.0 / 200e-6;
       }},
      {"water", [](nb::Options& o) { o.water_size = 50e-6; }},
      {"dmin", [](nb::Options& o) { o.dmin = 60e-10; }},
      {"oversample_products", [](nb::Options& o) {
         o.oversample = 2, o.oversample_thick = o.oversample_polar = o.oversample_omega = true;
         o.detector_thick = 100e-6, o.detector_thicksteps = 2, o.detector_mu = 1.0 / 200e-6;
       }},
      {"round_xtal", [](nb::Options& o) { o.shape = int(nb::CrystalShape::Round); }},
      {"gauss_xtal", [](nb::Options& o) { o.shape = int(nb::CrystalShape::Gauss); }},
      {"tophat_xtal", [](nb::Options& o) { o.shape = int(nb::CrystalShape::Tophat); }},
      {"divergence_dispersion", [](nb::Options& o) {
         o.hdivrange = o.vdivrange = 1e-3, o.hdivsteps = o.vdivsteps = 3;
         o.dispersion = 0.02, o.dispsteps = 3;
       }},
      {"exact_math", [](nb::Options& o) { o.exact_math = true, o.mosaic_spread = 0.01, o.mosaic_domains = 2; }},
      {"exact_math_tricubic", [](nb::Options& o) { o.exact_math = true, o.interpolate = 1, o.Na = o.Nb = o.Nc = 2; },
       4},
  };
  return all;
}

// Keeps the Prepared tables alive while the SimParams point into them.
template <typename Real>
struct Rig {
  nb::Prepared prepared;
  nb::KernelTables<Real> tables;
  nb::SimParams<Real> p;
  explicit Rig(const Case& c) : prepared(make(c)) { p = nb::make_sim_params<Real>(prepared, tables, nullptr); }
  static nb::Prepared make(const Case& c) {
    nb::Options o = base();
    c.change(o);
    return nb::prepare(o, c.table_radius ? table(c.table_radius) : nb::FTableData{}, nb::SourceList{});
  }
};

// Every block of W pixels of every third row against W single pixels. Adds up the values and
// the lanes that switched interpolation off, so callers can check the case exercised what it should.
template <typename Real, int W>
void expect_lanes_match_single(const nb::SimParams<Real>& p, const std::string& what, double& sum, int& switches) {
  sum = 0;
  switches = 0;
  for (int s = 0; s < p.spixels; s += 3) {
    for (int f0 = 0; f0 + W <= p.fpixels; f0 += W) {
      nb::BlockState<W> block;
      block.trace = nullptr;
      block.first_evaluation = false;
      for (int w = 0; w < W; ++w) block.interpolate[w] = p.interpolate != 0;
      Real v[W];
      nb::pixel_block<Real, W>(p, f0, s, block, v);
      for (int w = 0; w < W; ++w) {
        nb::PixelState one{nullptr, false, p.interpolate != 0, false, {0, 0, 0}, 0.0};
        const Real u = nb::pixel_intensity(p, f0 + w, s, one);
        const std::string at = what + " W=" + std::to_string(W) + " pixel (" + std::to_string(f0 + w) + ", " +
                               std::to_string(s) + ")";
        ASSERT_EQ(v[w], u) << at;
        ASSERT_EQ(block.omega_sum[w], one.omega_sum) << at;
        ASSERT_EQ(block.interpolate[w], one.interpolate) << at;
        ASSERT_EQ(block.switched_off[w], one.switched_off) << at;
        if (one.switched_off) {
          for (int i = 0; i < 3; ++i) ASSERT_EQ(block.switch_hkl[w][i], one.switch_hkl[i]) << at;
        }
        sum += double(u);
        switches += one.switched_off;
      }
    }
  }
}

template <typename Real>
void check_all_cases() {
  for (const Case& c : cases()) {
    const Rig<Real> rig(c);
    double sum8, sum16;
    int switches8, switches16;
    expect_lanes_match_single<Real, 8>(rig.p, c.name, sum8, switches8);
    expect_lanes_match_single<Real, 16>(rig.p, c.name, sum16, switches16);
    if (::testing::Test::HasFatalFailure()) return;
    EXPECT_GT(sum8, 0.0) << c.name << ": the case renders nothing, so it tests nothing";
    EXPECT_EQ(sum8, sum16) << c.name;
    if (c.name == "tricubic_switch_off") {
      EXPECT_GT(switches8, 0) << "no lane switched interpolation off";
    } else if (c.name == "tricubic") {
      EXPECT_EQ(switches8, 0) << "the table should cover the detector";
      EXPECT_EQ(rig.p.interpolate, 1);
    }
    EXPECT_EQ(switches8, switches16) << c.name;
  }
}
}  // namespace

TEST(Lanes, DoubleLanesEqualSinglePixels) { check_all_cases<double>(); }

TEST(Lanes, FloatLanesEqualSinglePixels) { check_all_cases<float>(); }

TEST(Lanes, CasesChangeTheImage) {
  // Each mode must actually change the pixels from the plain case, or its lanes test nothing new.
  const Rig<double> plain(cases()[0]);
  for (std::size_t i = 1; i < cases().size(); ++i) {
    const Rig<double> rig(cases()[i]);
    bool differs = false;
    for (int s = 0; s < kPixels && !differs; s += 3) {
      for (int f = 0; f < kPixels && !differs; ++f) {
        nb::PixelState a{nullptr, false, plain.p.interpolate != 0, false, {0, 0, 0}, 0.0};
        nb::PixelState b{nullptr, false, rig.p.interpolate != 0, false, {0, 0, 0}, 0.0};
        differs = nb::pixel_intensity(plain.p, f, s, a) != nb::pixel_intensity(rig.p, f, s, b);
      }
    }
    EXPECT_TRUE(differs) << cases()[i].name << " renders the same pixels as the plain case";
  }
}
