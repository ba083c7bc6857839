/// place_detector() (setup.hpp): the basis vectors, default beam centres and forced pivots of every
/// convention (BEHAVIOUR.md 5.2), and placement with rotations and two-theta (5.3) against nanoBragg.c.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/setup.hpp"

namespace nb = nanobragg;
using nb::Convention;
using nb::Vec3d;

namespace {
constexpr double kDeg = M_PI / 180.0;
constexpr double kPx = 0.1e-3;

// A 1024 x 1024 detector of 0.1 mm pixels at 100 mm, as the tables in BEHAVIOUR.md assume.
nb::Options base(Convention c) {
  nb::Options o;
  o.convention = c;
  o.fpixels = o.spixels = 1024;
  o.pixel_size = kPx;
  o.distance = 100e-3;
  return o;
}

nb::DetectorGeometry place(const nb::Options& o) {
  std::vector<std::string> warnings;
  return nb::place_detector(o, warnings);
}

void expect_vec(const Vec3d& v, double x, double y, double z, double tol = 1e-15) {
  EXPECT_NEAR(v.x, x, tol);
  EXPECT_NEAR(v.y, y, tol);
  EXPECT_NEAR(v.z, z, tol);
}

// Beam centre as a fractional pixel-centre index, the form BEHAVIOUR.md 5.2 quotes.
double centre_index(double metres) { return metres / kPx - 0.5; }
}  // namespace

TEST(Detector, SizeFromPixelCount) {
  const nb::DetectorGeometry g = place(base(Convention::Mosflm));
  EXPECT_EQ(g.fpixels, 1024);
  EXPECT_EQ(g.spixels, 1024);
  EXPECT_DOUBLE_EQ(g.detsize_f, 0.1024);
  // ROI defaults cover everything (inclusive bounds).
  EXPECT_EQ(g.roi_xmin, 0);
  EXPECT_EQ(g.roi_xmax, 1024);
  EXPECT_EQ(g.roi_ymin, 0);
  EXPECT_EQ(g.roi_ymax, 1024);
}

TEST(Detector, SizeRoundsTiesDown) {
  // Q29: fpixels = ceil(detsize/pixel - 0.5), so 10.5 pixels' worth gives 10, 10.6 gives 11.
  nb::Options o = base(Convention::Mosflm);
  o.fpixels = o.spixels = 0;
  o.pixel_size = std::ldexp(1.0, -13);  // about 0.12 mm, a power of two so the tie is exact
  o.detsize_f = 10.5 * o.pixel_size;
  o.detsize_s = 10.625 * o.pixel_size;
  const nb::DetectorGeometry g = place(o);
  EXPECT_EQ(g.fpixels, 10);
  EXPECT_EQ(g.spixels, 11);
}

TEST(Detector, MosflmAxesCentreAndPivot) {
  nb::Options o = base(Convention::Mosflm);
  o.pivot = nb::Pivot::Sample;  // forced back to BEAM (Q10)
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.beam, 1, 0, 0);
  expect_vec(g.fdet, 0, 0, 1);
  expect_vec(g.sdet, 0, -1, 0);
  expect_vec(g.odet, 1, 0, 0);
  expect_vec(g.twotheta_axis, 0, 0, -1);
  expect_vec(g.polar, 0, 0, 1);
  expect_vec(g.spindle, 0, 0, 1);
  EXPECT_EQ(g.pivot, nb::Pivot::Beam);
  EXPECT_NEAR(centre_index(g.Fbeam), 512.5, 1e-9);
  EXPECT_NEAR(centre_index(g.Sbeam), 512.5, 1e-9);
  // Xbeam/Ybeam default to (D + px)/2; Fbeam carries MOSFLM's extra half pixel.
  EXPECT_DOUBLE_EQ(g.Xbeam, (0.1024 + kPx) / 2);
  EXPECT_DOUBLE_EQ(g.Ybeam, (0.1024 + kPx) / 2);
  // Recorded from nanoBragg.c at commit 455534a (-mosflm -detpixels 1024 -pixel 0.1 -distance 100).
  expect_vec(g.pix0, 0.10000000000000001, 0.051300000000000005, -0.051300000000000005);
  EXPECT_DOUBLE_EQ(g.ORGX, 513.5);
  EXPECT_DOUBLE_EQ(g.ORGY, 513.5);
  EXPECT_DOUBLE_EQ(g.distance, 0.1);
  EXPECT_DOUBLE_EQ(g.close_distance, 0.1);
  // The polarization-plane normal v = b x p.
  expect_vec(g.vert, 0, -1, 0);
}

TEST(Detector, MosflmHalfPixelShiftAppliesToGivenCentre) {
  nb::Options o = base(Convention::Mosflm);
  o.Xbeam = 40e-3;  // along slow
  o.Ybeam = 60e-3;  // along fast
  const nb::DetectorGeometry g = place(o);
  EXPECT_NEAR(g.Fbeam, 60e-3 + kPx / 2, 1e-15);
  EXPECT_NEAR(g.Sbeam, 40e-3 + kPx / 2, 1e-15);
}

TEST(Detector, DenzoIsMosflmWithoutTheShift) {
  const nb::DetectorGeometry g = place(base(Convention::Denzo));
  expect_vec(g.beam, 1, 0, 0);
  expect_vec(g.fdet, 0, 0, 1);
  expect_vec(g.sdet, 0, -1, 0);
  expect_vec(g.odet, 1, 0, 0);
  expect_vec(g.twotheta_axis, 0, 0, -1);
  EXPECT_EQ(g.pivot, nb::Pivot::Beam);
  EXPECT_NEAR(centre_index(g.Fbeam), 512.0, 1e-9);
  EXPECT_NEAR(centre_index(g.Sbeam), 512.0, 1e-9);
}

TEST(Detector, AdxvAxesAndCentre) {
  const nb::DetectorGeometry g = place(base(Convention::Adxv));
  expect_vec(g.beam, 0, 0, 1);
  expect_vec(g.fdet, 1, 0, 0);
  expect_vec(g.sdet, 0, -1, 0);
  expect_vec(g.odet, 0, 0, 1);
  expect_vec(g.twotheta_axis, -1, 0, 0);
  expect_vec(g.polar, 1, 0, 0);
  expect_vec(g.spindle, 1, 0, 0);
  EXPECT_EQ(g.pivot, nb::Pivot::Beam);
  EXPECT_DOUBLE_EQ(g.Xbeam, (0.1024 + kPx) / 2);
  EXPECT_DOUBLE_EQ(g.Ybeam, (0.1024 - kPx) / 2);
  // Sbeam = Ds - Ybeam = (Ds + px)/2.
  EXPECT_NEAR(centre_index(g.Fbeam), 512.0, 1e-9);
  EXPECT_NEAR(centre_index(g.Sbeam), 512.0, 1e-9);
}

TEST(Detector, XdsAxesCentreAndPivot) {
  nb::Options o = base(Convention::Xds);
  o.pivot = nb::Pivot::Beam;  // forced to SAMPLE (Q10)
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.beam, 0, 0, 1);
  expect_vec(g.fdet, 1, 0, 0);
  expect_vec(g.sdet, 0, 1, 0);
  expect_vec(g.odet, 0, 0, 1);
  expect_vec(g.twotheta_axis, 1, 0, 0);
  expect_vec(g.polar, 1, 0, 0);
  expect_vec(g.spindle, 1, 0, 0);
  EXPECT_EQ(g.pivot, nb::Pivot::Sample);
  EXPECT_NEAR(centre_index(g.Fbeam), 511.5, 1e-9);
  EXPECT_NEAR(centre_index(g.Sbeam), 511.5, 1e-9);
  EXPECT_NEAR(g.ORGX, 512.5, 1e-9);
  EXPECT_NEAR(g.ORGY, 512.5, 1e-9);
}

TEST(Detector, DialsAxesCentreAndPivot) {
  const nb::DetectorGeometry g = place(base(Convention::Dials));
  expect_vec(g.beam, 0, 0, 1);
  expect_vec(g.fdet, 1, 0, 0);
  expect_vec(g.sdet, 0, 1, 0);
  expect_vec(g.odet, 0, 0, 1);
  expect_vec(g.twotheta_axis, 0, 1, 0);
  expect_vec(g.polar, 0, 1, 0);
  expect_vec(g.spindle, 0, 1, 0);
  EXPECT_EQ(g.pivot, nb::Pivot::Sample);
  EXPECT_NEAR(centre_index(g.Fbeam), 511.5, 1e-9);
  EXPECT_NEAR(centre_index(g.Sbeam), 511.5, 1e-9);
  // DIALS_ORIGIN (mm) = 1000 (pix0_z, pix0_y, -pix0_x) with pix0 = (-51.2, -51.2, 100) mm.
  EXPECT_NEAR(g.dials_origin[0], 100.0, 1e-9);
  EXPECT_NEAR(g.dials_origin[1], -51.2, 1e-9);
  EXPECT_NEAR(g.dials_origin[2], 51.2, 1e-9);
}

TEST(Detector, CustomKeepsGivenVectorsAndPivot) {
  nb::Options o = base(Convention::Custom);
  const nb::DetectorGeometry g = place(o);
  // The initial vectors (MOSFLM-like) with twotheta axis +y, and the pivot left as given.
  expect_vec(g.beam, 1, 0, 0);
  expect_vec(g.fdet, 0, 0, 1);
  expect_vec(g.sdet, 0, -1, 0);
  expect_vec(g.odet, 1, 0, 0);
  expect_vec(g.twotheta_axis, 0, 1, 0);
  EXPECT_EQ(g.pivot, nb::Pivot::Beam);
  EXPECT_NEAR(centre_index(g.Fbeam), 511.5, 1e-9);
  EXPECT_NEAR(centre_index(g.Sbeam), 511.5, 1e-9);
  o.pivot = nb::Pivot::Sample;
  EXPECT_EQ(place(o).pivot, nb::Pivot::Sample);
}

TEST(Detector, CustomVectorsWithTwoThetaMatchC) {
  // Recorded from nanoBragg.c at commit 455534a: -fdet_vector 0 0.6 0.8 -sdet_vector 0 -0.8 0.6
  // -odet_vector 1 0 0 -beam_vector 1 0 0 -twotheta 10 -Xbeam 30 -Ybeam 70 -pivot sample.
  nb::Options o = base(Convention::Custom);
  const double f[3] = {0, 0.6, 0.8}, s[3] = {0, -0.8, 0.6};
  for (int i = 0; i < 3; ++i) o.fdet[i] = f[i], o.sdet[i] = s[i];
  o.twotheta = 10 * kDeg;
  o.Xbeam = 30e-3;
  o.Ybeam = 70e-3;
  o.pivot = nb::Pivot::Sample;
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.fdet, 0.13891854213354426, 0.59999999999999998, 0.78784620240976644);
  expect_vec(g.sdet, 0.1041889066001582, -0.80000000000000004, 0.59088465180732475);
  expect_vec(g.odet, 0.98480775301220802, 0, -0.17364817766693033);
  expect_vec(g.pix0, 0.087019995575203402, 0.038000000000000006, -0.082362129465498771);
  EXPECT_NEAR(g.Fbeam, 0.043891854213354432, 1e-15);
  EXPECT_NEAR(g.Sbeam, 0.080418890660015813, 1e-15);
  EXPECT_NEAR(g.Fclose, 0.030000000000000006, 1e-15);
  EXPECT_NEAR(g.Sclose, 0.070000000000000007, 1e-15);
  EXPECT_NEAR(g.ORGX, 300.50000000000006, 1e-9);
  EXPECT_NEAR(g.ORGY, 700.5, 1e-9);
}

TEST(Detector, CustomOdetNotUnitIsRegenerated) {
  // An odet whose length was not exactly 1 is replaced by unit(f x s), with a warning.
  nb::Options o = base(Convention::Custom);
  o.odet[0] = 2.0;
  std::vector<std::string> warnings;
  const nb::DetectorGeometry g = nb::place_detector(o, warnings);
  EXPECT_TRUE(g.odet_autogenerated);
  expect_vec(g.odet, 1, 0, 0);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("odet"), std::string::npos);
  // A unit odet is kept without a warning.
  std::vector<std::string> none;
  EXPECT_FALSE(nb::place_detector(base(Convention::Custom), none).odet_autogenerated);
  EXPECT_TRUE(none.empty());
}

TEST(Detector, MosflmRotationsAndTwoThetaMatchC) {
  // Recorded from nanoBragg.c at commit 455534a: -mosflm -twotheta 15 -detector_rotx 3
  // -detector_roty -2 -detector_rotz 5 (BEAM pivot, so pix0 follows the rotated axes).
  nb::Options o = base(Convention::Mosflm);
  o.twotheta = 15 * kDeg;
  o.detector_rotx = 3 * kDeg;
  o.detector_roty = -2 * kDeg;
  o.detector_rotz = 5 * kDeg;
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.fdet, -0.043410236432680556, -0.045488926805557883, 0.99802119662406841);
  expect_vec(g.sdet, -0.17161144895900926, -0.98377527635492779, -0.052304074592470842);
  expect_vec(g.odet, 0.98420783473768803, -0.1735423958889124, 0.034899496702500969);
  expect_vec(g.pix0, 0.11103061246059369, 0.052801253622132921, -0.048515288360220961);
  EXPECT_NEAR(g.Fbeam, 0.051349619816196131, 1e-15);
  EXPECT_NEAR(g.Sbeam, 0.051496159460400592, 1e-15);
  EXPECT_NEAR(g.Fclose, 0.055641023643268062, 1e-15);
  EXPECT_NEAR(g.Sclose, 0.068461144895900924, 1e-15);
  EXPECT_NEAR(g.distance, 0.098856955864014356, 1e-15);
  EXPECT_NEAR(g.close_distance, 0.0984207834737688, 1e-15);
  // The axes stay orthonormal and right-handed.
  EXPECT_NEAR(nb::dot(g.fdet, g.sdet), 0.0, 1e-15);
  const Vec3d fxs = nb::cross(g.fdet, g.sdet);
  expect_vec(fxs, g.odet.x, g.odet.y, g.odet.z, 1e-15);
}

TEST(Detector, BeamPivotKeepsBeamSpotUnderRotation) {
  // With the BEAM pivot and no two-theta the direct beam hits (Fbeam, Sbeam) whatever the rotation.
  nb::Options o = base(Convention::Mosflm);
  o.detector_rotx = 4 * kDeg;
  o.detector_rotz = -3 * kDeg;
  const nb::DetectorGeometry ref = place(base(Convention::Mosflm));
  const nb::DetectorGeometry g = place(o);
  EXPECT_NEAR(g.Fbeam, ref.Fbeam, 1e-15);
  EXPECT_NEAR(g.Sbeam, ref.Sbeam, 1e-15);
  EXPECT_NEAR(g.distance, 0.1, 1e-15);
}

TEST(Detector, XdsTwoThetaWithOrgxMatchesC) {
  // Recorded from nanoBragg.c at commit 455534a: -xds -twotheta 20 -ORGX 400 -ORGY 600.
  nb::Options o = base(Convention::Xds);
  o.twotheta = 20 * kDeg;
  o.ORGX = 400;
  o.ORGY = 600;
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.fdet, 1, 0, 0);
  expect_vec(g.sdet, 0, 0.93969262078590843, 0.34202014332566871);
  expect_vec(g.odet, 0, -0.34202014332566871, 0.93969262078590843);
  expect_vec(g.pix0, -0.039949999999999999, -0.09053658694868208, 0.073465154486217016);
  EXPECT_NEAR(g.Fbeam, 0.039949999999999999, 1e-15);
  EXPECT_NEAR(g.Sbeam, 0.094152014332566869, 1e-15);
  EXPECT_NEAR(g.ORGX, 400.0, 1e-9);
  EXPECT_NEAR(g.ORGY, 600.0, 1e-9);
  // SAMPLE pivot: the near point and sample distance do not move with two-theta.
  EXPECT_NEAR(g.close_distance, 0.1, 1e-15);
  EXPECT_NEAR(g.distance, 0.1, 1e-15);
}

TEST(Detector, DenzoRotzMatchesC) {
  // Recorded from nanoBragg.c at commit 455534a: -denzo -Xbeam 40 -Ybeam 60 -detector_rotz 7.
  nb::Options o = base(Convention::Denzo);
  o.Xbeam = 40e-3;
  o.Ybeam = 60e-3;
  o.detector_rotz = 7 * kDeg;
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.sdet, 0.12186934340514748, -0.99254615164132198, 0);
  expect_vec(g.odet, 0.99254615164132198, 0.12186934340514748, 0);
  expect_vec(g.pix0, 0.095125226263794105, 0.039701846065652878, -0.059999999999999998);
  EXPECT_NEAR(g.close_distance, 0.099254615164132198, 1e-15);
  EXPECT_NEAR(g.ORGY, 278.6306565948525, 1e-9);
}

TEST(Detector, AdxvRotyMatchesC) {
  // Recorded from nanoBragg.c at commit 455534a: -adxv -detector_roty 4.
  nb::Options o = base(Convention::Adxv);
  o.detector_roty = 4 * kDeg;
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.fdet, 0.9975640502598242, 0, -0.069756473744125302);
  expect_vec(g.odet, 0.069756473744125302, 0, 0.9975640502598242);
  expect_vec(g.pix0, -0.051125157575815997, 0.051250000000000004, 0.10357501927938642);
  EXPECT_NEAR(g.close_distance, 0.099756405025982417, 1e-15);
  EXPECT_NEAR(g.ORGX, 582.75647374412529, 1e-9);
}

TEST(Detector, DialsRotxTwoThetaMatchesC) {
  // Recorded from nanoBragg.c at commit 455534a: -dials -detector_rotx -6 -twotheta 10.
  nb::Options o = base(Convention::Dials);
  o.detector_rotx = -6 * kDeg;
  o.twotheta = 10 * kDeg;
  const nb::DetectorGeometry g = place(o);
  expect_vec(g.fdet, 0.98480775301220802, 0, -0.17364817766693033);
  expect_vec(g.sdet, -0.01815117716075269, 0.99452189536827329, -0.10294044103643693);
  expect_vec(g.odet, 0.17269691478056221, 0.10452846326765346, 0.97941287309907143);
  expect_vec(g.pix0, -0.032317730382412729, -0.040523936501967631, 0.11156609196786989);
  // Q14: Fbeam/Sbeam come from the two-theta-blind ratio.
  EXPECT_NEAR(g.Fbeam, 0.033835182233306969, 1e-15);
  EXPECT_NEAR(g.Sbeam, 0.040905955896356309, 1e-15);
  EXPECT_NEAR(g.close_distance, 0.099452189536827329, 1e-15);
}
