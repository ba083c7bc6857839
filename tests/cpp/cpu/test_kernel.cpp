/// Per-pixel pieces of core/kernel.hpp and core/polarization.hpp: sensor capture fraction, flat and
/// curved sub-pixel positions, solid angle, the Kahn polarization factor and one whole pixel.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/core/kernel.hpp"
#include "nanobragg/sim_params.hpp"

namespace nb = nanobragg;
using V = nb::Vec3<double>;

namespace {
nb::Options base() {
  nb::Options o;
  o.fpixels = o.spixels = 32;
  o.distance = 50e-3;
  o.user_cell = true;
  o.cell[0] = o.cell[1] = o.cell[2] = 100;
  o.cell[3] = o.cell[4] = o.cell[5] = M_PI / 2;
  o.oversample = 1;
  return o;
}

// Keeps the Prepared tables alive while the SimParams point into them.
struct Rig {
  nb::Prepared prepared;
  nb::KernelTables<double> tables;
  nb::SimParams<double> p;
  explicit Rig(const nb::Options& o) : prepared(nb::prepare(o, nb::FTableData{}, nb::SourceList{})) {
    p = nb::make_sim_params<double>(prepared, tables, nullptr);
  }
};
}  // namespace

TEST(CaptureFraction, MatchesExponentialFormula) {
  nb::SimParams<double> p{};
  p.odet = {1, 0, 0};
  p.thickstep = 25e-6;
  p.mu = 1.0 / 300e-6;
  V d{0.8, 0.6, 0};  // parallax rho = d.o = 0.8
  for (int k = 0; k < 4; ++k) {
    const double expected = std::exp(-k * 25e-6 / 300e-6 / 0.8) - std::exp(-(k + 1) * 25e-6 / 300e-6 / 0.8);
    EXPECT_NEAR(nb::capture_fraction(p, d, k), expected, 1e-15) << "layer " << k;
  }
  // The layers telescope: their sum is the absorption of the whole stack.
  double sum = 0;
  for (int k = 0; k < 4; ++k) sum += nb::capture_fraction(p, d, k);
  EXPECT_NEAR(sum, 1.0 - std::exp(-4 * 25e-6 / 300e-6 / 0.8), 1e-15);
  // An oblique ray crosses more material: layer 0 absorbs more than at normal incidence.
  EXPECT_GT(nb::capture_fraction(p, d, 0), nb::capture_fraction(p, V{1, 0, 0}, 0));
}

TEST(SubpixelPosition, FlatPixelCentres) {
  const Rig s(base());
  const nb::SimParams<double>& p = s.p;
  // Pixel (0, 0) centre: pix0 + px/2 (f + s); pixel (3, 7) moves 3 px along f and 7 along s.
  const double h = p.pixel_size / 2;
  const V c00 = nb::subpixel_position(p, 0, 0, 0, 0, 0.0);
  EXPECT_NEAR(c00.x, p.pix0.x + h * p.fdet.x + h * p.sdet.x, 1e-16);
  EXPECT_NEAR(c00.y, p.pix0.y + h * p.fdet.y + h * p.sdet.y, 1e-16);
  EXPECT_NEAR(c00.z, p.pix0.z + h * p.fdet.z + h * p.sdet.z, 1e-16);
  const V c37 = nb::subpixel_position(p, 3, 7, 0, 0, 0.0);
  EXPECT_NEAR(nb::dot(V{c37.x - c00.x, c37.y - c00.y, c37.z - c00.z}, p.fdet), 3 * p.pixel_size, 1e-16);
  EXPECT_NEAR(nb::dot(V{c37.x - c00.x, c37.y - c00.y, c37.z - c00.z}, p.sdet), 7 * p.pixel_size, 1e-16);
  // Every flat-detector point lies close_distance in front of the sample along o.
  EXPECT_NEAR(nb::dot(c37, p.odet), p.close_distance, 1e-16);
  // A sensor depth moves the point along o.
  const V deep = nb::subpixel_position(p, 3, 7, 0, 0, 40e-6);
  EXPECT_NEAR(nb::dot(deep, p.odet), p.close_distance + 40e-6, 1e-16);
}

TEST(SubpixelPosition, OversampledSubpixels) {
  nb::Options o = base();
  o.oversample = 3;
  const Rig s(o);
  const nb::SimParams<double>& p = s.p;
  ASSERT_EQ(p.oversample, 3);
  // The middle sub-pixel of three is the pixel centre; the first sits px/3 before it.
  const V mid = nb::subpixel_position(p, 5, 2, 1, 1, 0.0);
  const V first = nb::subpixel_position(p, 5, 2, 0, 1, 0.0);
  const double fd = p.pixel_size * 5.5, sd = p.pixel_size * 2.5;
  EXPECT_NEAR(mid.x, p.pix0.x + fd * p.fdet.x + sd * p.sdet.x, 1e-16);
  EXPECT_NEAR(mid.z, p.pix0.z + fd * p.fdet.z + sd * p.sdet.z, 1e-16);
  EXPECT_NEAR(nb::dot(V{mid.x - first.x, mid.y - first.y, mid.z - first.z}, p.fdet), p.pixel_size / 3, 1e-16);
}

TEST(SubpixelPosition, CurvedDetectorKeepsDistance) {
  nb::Options o = base();
  o.curved_detector = true;
  const Rig s(o);
  const nb::SimParams<double>& p = s.p;
  ASSERT_TRUE(p.curved_detector);
  for (int sp : {0, 5, 16, 31}) {
    for (int fp : {0, 9, 16, 31}) {
      const V pos = nb::subpixel_position(p, fp, sp, 0, 0, 0.0);
      EXPECT_NEAR(nb::magnitude(pos), p.distance, 1e-15 * p.distance) << fp << "," << sp;
    }
  }
  // Away from the beam centre the curved position differs from the flat one.
  nb::SimParams<double> flat = p;
  flat.curved_detector = 0;
  const V c = nb::subpixel_position(p, 0, 0, 0, 0, 0.0), f = nb::subpixel_position(flat, 0, 0, 0, 0, 0.0);
  EXPECT_GT(std::fabs(nb::magnitude(f) - nb::magnitude(c)), 1e-5);
}

TEST(SolidAngle, FlatAndPointPixel) {
  nb::SimParams<double> p{};
  p.pixel_size = 0.1e-3;
  p.close_distance = 0.1;
  // On axis: px^2 / d^2.
  EXPECT_NEAR(nb::pixel_solid_angle(p, 0.1), 1e-6, 1e-21);
  // Oblique: obliquity close/R on top of the inverse square.
  EXPECT_NEAR(nb::pixel_solid_angle(p, 0.2), 1e-8 / 0.04 * 0.5, 1e-22);
  p.point_pixel = 1;
  EXPECT_NEAR(nb::pixel_solid_angle(p, 0.2), 25.0, 1e-12);
}

TEST(Polarization, KnownFactors) {
  // Unpolarized (Kahn 0) at 2theta = 90 degrees: (1 + cos^2 2theta)/2 = 0.5.
  V i{1, 0, 0}, d{0, 1, 0}, axis{0, 0, 1};
  EXPECT_NEAR(nb::polarization_factor(0.0, i, d, axis), 0.5, 1e-16);
  // Fully polarized with the E vector along z: a dipole radiates fully at right angles to E
  // (d along y) and not at all along E (d along z).
  i = {1, 0, 0}, d = {0, 1, 0}, axis = {0, 0, 1};
  EXPECT_NEAR(nb::polarization_factor(1.0, i, d, axis), 1.0, 1e-16);
  i = {1, 0, 0}, d = {0, 0, 1}, axis = {0, 0, 1};
  EXPECT_NEAR(nb::polarization_factor(1.0, i, d, axis), 0.0, 1e-16);
  // Straight through: 1 whatever K.
  i = {1, 0, 0}, d = {1, 0, 0}, axis = {0, 0, 1};
  EXPECT_NEAR(nb::polarization_factor(0.7, i, d, axis), 1.0, 1e-16);
}

TEST(Polarization, MatchesNanoBraggCAndRenormalizes) {
  // Recorded from nanoBragg.c polarization_factor() at commit 455534a.
  V i{1, 0, 0}, d{0.6, 0.8, 0}, axis{0, 0, 1};
  EXPECT_DOUBLE_EQ(nb::polarization_factor(0.3, i, d, axis), 0.77599999999999991);
  V i2{1, 0, 0}, d2{0.7, 0.2, -0.4}, axis2{0, 0, 1};
  EXPECT_DOUBLE_EQ(nb::polarization_factor(0.9, i2, d2, axis2), 0.77681159420289858);
  // Like the C, the diffracted vector is unitized in place.
  EXPECT_NEAR(nb::magnitude(d2), 1.0, 1e-16);
}

TEST(PixelIntensity, SinglePixelByHand) {
  // One source, one cell (F_latt = 1 everywhere), F = default_F = 2, no polarization, no
  // sensor: the pixel is r_e^2 * fluence * F^2 * omega with omega from the pixel centre.
  nb::Options o = base();
  o.default_F = 2.0;
  o.nopolar = true;
  const Rig s(o);
  const nb::SimParams<double>& p = s.p;
  ASSERT_EQ(p.n_sources, 1);
  ASSERT_EQ(p.steps, 1.0);
  for (int sp : {0, 13}) {
    const int fp = 21;
    nb::PixelState st{nullptr, true, false, false, {0, 0, 0}, 0.0};
    const double value = nb::pixel_intensity(p, fp, sp, st);
    V pos = nb::subpixel_position(p, fp, sp, 0, 0, 0.0);
    const double R = nb::magnitude(pos);
    const double omega = p.pixel_size * p.pixel_size / R / R * p.close_distance / R;
    EXPECT_NEAR(value, p.r_e_sqr * p.fluence * 4.0 * omega, 1e-12 * value) << "pixel " << fp << "," << sp;
    EXPECT_FALSE(st.first_evaluation);
    EXPECT_NEAR(st.omega_sum, omega, 1e-12 * omega);
  }
}

TEST(PixelIntensity, PolarizationAndCaptureScaleThePixel) {
  nb::Options o = base();
  o.default_F = 2.0;
  o.nopolar = true;
  const Rig plain(o);
  o.nopolar = false;
  o.polarization = 0.0;  // Kahn factor: unpolarized
  // One sensor layer of 100 um (count, thickness and step all given, so kept as is).
  o.detector_thick = 100e-6;
  o.detector_thicksteps = 1;
  o.detector_thickstep = 100e-6;
  o.detector_mu = 1.0 / 200e-6;
  const Rig scaled(o);
  ASSERT_EQ(scaled.p.thicksteps, 1);
  const int fp = 3, sp = 29;
  nb::PixelState a{nullptr, true, false, false, {0, 0, 0}, 0.0}, b{nullptr, true, false, false, {0, 0, 0}, 0.0};
  const double v0 = nb::pixel_intensity(plain.p, fp, sp, a);
  const double v1 = nb::pixel_intensity(scaled.p, fp, sp, b);
  V d = nb::subpixel_position(scaled.p, fp, sp, 0, 0, 0.0);
  nb::unitize(d);
  V inc{1, 0, 0}, dd = d, axis = scaled.p.polar_axis;
  const double polar = nb::polarization_factor(0.0, inc, dd, axis);
  const double capture = nb::capture_fraction(scaled.p, d, 0);
  EXPECT_LT(polar, 1.0);
  EXPECT_GT(capture, 0.0);
  EXPECT_LT(capture, 1.0);
  EXPECT_NEAR(v1, v0 * polar * capture, 1e-12 * v0);
}
