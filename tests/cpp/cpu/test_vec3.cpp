/// Vector and rotation helpers of core/vec3.hpp: dot, cross, unitize, rotate_xyz, rotate_axis and
/// rotate_umat against hand-worked values and against values recorded from nanoBragg.c.
#include <cmath>

#include <gtest/gtest.h>

#include "nanobragg/core/vec3.hpp"

namespace nb = nanobragg;
using V = nb::Vec3<double>;

namespace {
void expect_vec_near(const V& v, double x, double y, double z, double tol) {
  EXPECT_NEAR(v.x, x, tol);
  EXPECT_NEAR(v.y, y, tol);
  EXPECT_NEAR(v.z, z, tol);
}
}  // namespace

TEST(Vec3, DotAndCross) {
  const V a{1, 2, 3}, b{-4, 5, 0.5};
  EXPECT_EQ(nb::dot(a, b), -4.0 + 10.0 + 1.5);
  const V c = nb::cross(a, b);
  // (2*0.5 - 3*5, 3*(-4) - 1*0.5, 1*5 - 2*(-4))
  expect_vec_near(c, -14.0, -12.5, 13.0, 0.0);
  // Right-handed: x cross y = z, and the cross product is orthogonal to both factors.
  expect_vec_near(nb::cross(V{1, 0, 0}, V{0, 1, 0}), 0, 0, 1, 0.0);
  EXPECT_EQ(nb::dot(c, a), 0.0);
  EXPECT_EQ(nb::dot(c, b), 0.0);
}

TEST(Vec3, MagnitudeAndScale) {
  EXPECT_EQ(nb::magnitude(V{3, 4, 12}), 13.0);
  expect_vec_near(nb::scale(V{1, -2, 3}, 2.5), 2.5, -5.0, 7.5, 0.0);
}

TEST(Vec3, UnitizeReturnsLengthAndNormalizes) {
  V v{0, 3, 4};
  EXPECT_EQ(nb::unitize(v), 5.0);
  expect_vec_near(v, 0.0, 0.6, 0.8, 1e-16);
  EXPECT_NEAR(nb::magnitude(v), 1.0, 1e-16);
}

TEST(Vec3, UnitizeZeroVectorStaysZero) {
  V v{0, 0, 0};
  EXPECT_EQ(nb::unitize(v), 0.0);
  // No division by zero: the components are exactly zero, not NaN.
  EXPECT_EQ(v.x, 0.0);
  EXPECT_EQ(v.y, 0.0);
  EXPECT_EQ(v.z, 0.0);
}

TEST(RotateXyz, ZeroAnglesAreSkippedExactly) {
  const V v{0.3, -1.2, 2.5};
  const V r = nb::rotate_xyz(v, 0.0, 0.0, 0.0);
  // Bit-identical: cos(0)/sin(0) products would be exact too, but skipping is what the C does.
  EXPECT_EQ(r.x, v.x);
  EXPECT_EQ(r.y, v.y);
  EXPECT_EQ(r.z, v.z);
  // A rotation about y alone leaves y untouched bit for bit.
  const V ry = nb::rotate_xyz(v, 0.0, 0.4, 0.0);
  EXPECT_EQ(ry.y, v.y);
}

TEST(RotateXyz, NinetyDegreeRotationsAreRightHanded) {
  const double q = M_PI / 2;
  expect_vec_near(nb::rotate_xyz(V{0, 1, 0}, q, 0.0, 0.0), 0, 0, 1, 1e-15);  // Rx: y -> z
  expect_vec_near(nb::rotate_xyz(V{0, 0, 1}, 0.0, q, 0.0), 1, 0, 0, 1e-15);  // Ry: z -> x
  expect_vec_near(nb::rotate_xyz(V{1, 0, 0}, 0.0, 0.0, q), 0, 1, 0, 1e-15);  // Rz: x -> y
  // Order is x, then y, then z: x axis under (90, 90, 90) -> x -> -z -> -z.
  expect_vec_near(nb::rotate_xyz(V{1, 0, 0}, q, q, q), 0, 0, -1, 1e-15);
  // y axis: Rx -> z, Ry -> x, Rz -> y.
  expect_vec_near(nb::rotate_xyz(V{0, 1, 0}, q, q, q), 0, 1, 0, 1e-15);
}

TEST(RotateXyz, MatchesNanoBraggC) {
  // Recorded from nanoBragg.c rotate() at commit 455534a (gcc, x86-64, no FMA).
  const V v{0.3, -1.2, 2.5};
  const V r = nb::rotate_xyz(v, 0.1, -0.7, 1.3);
  EXPECT_DOUBLE_EQ(r.x, 1.0443383269284776);
  EXPECT_DOUBLE_EQ(r.y, -1.6348026604168637);
  EXPECT_DOUBLE_EQ(r.z, 2.0041900409896698);
  const V ry = nb::rotate_xyz(v, 0.0, 0.4, 0.0);
  EXPECT_DOUBLE_EQ(ry.x, 1.2498641539724917);
  EXPECT_DOUBLE_EQ(ry.z, 2.1858269823146177);
  // Length is preserved.
  EXPECT_NEAR(nb::magnitude(r), nb::magnitude(v), 1e-14);
}

TEST(RotateAxis, IdentityAtZeroAngle) {
  const V v{0.3, -1.2, 2.5}, axis{0.48, 0.6, 0.64};
  const V r = nb::rotate_axis(v, axis, 0.0);
  EXPECT_EQ(r.x, v.x);
  EXPECT_EQ(r.y, v.y);
  EXPECT_EQ(r.z, v.z);
}

TEST(RotateAxis, KnownRotations) {
  // 90 degrees about +z takes +x to +y (right-handed), and the axis itself is fixed.
  expect_vec_near(nb::rotate_axis(V{1, 0, 0}, V{0, 0, 1}, M_PI / 2), 0, 1, 0, 1e-15);
  expect_vec_near(nb::rotate_axis(V{0, 0, 2}, V{0, 0, 1}, 1.234), 0, 0, 2, 1e-15);
  // 120 degrees about (1,1,1)/sqrt(3) cycles the axes x -> y -> z.
  const double s = 1.0 / std::sqrt(3.0);
  expect_vec_near(nb::rotate_axis(V{1, 0, 0}, V{s, s, s}, 2 * M_PI / 3), 0, 1, 0, 1e-15);
  expect_vec_near(nb::rotate_axis(V{0, 1, 0}, V{s, s, s}, 2 * M_PI / 3), 0, 0, 1, 1e-15);
  // Same sense as rotate_xyz about a lab axis.
  const V v{0.3, -1.2, 2.5};
  const V a = nb::rotate_axis(v, V{1, 0, 0}, 0.7), b = nb::rotate_xyz(v, 0.7, 0.0, 0.0);
  expect_vec_near(a, b.x, b.y, b.z, 1e-15);
}

TEST(RotateAxis, MatchesNanoBraggC) {
  // Recorded from nanoBragg.c rotate_axis() at commit 455534a.
  const V r = nb::rotate_axis(V{0.3, -1.2, 2.5}, V{0.48, 0.6, 0.64}, 0.83);
  EXPECT_DOUBLE_EQ(r.x, 2.0358961441085461);
  EXPECT_DOUBLE_EQ(r.y, -1.3539294011521492);
  EXPECT_DOUBLE_EQ(r.z, 1.3423867054987306);
}

TEST(RotateUmat, RowMajorProduct) {
  // A proper rotation (rows orthonormal, det +1); U v with U row-major.
  const double u[9] = {0.36, 0.48, -0.8, -0.8, 0.6, 0, 0.48, 0.64, 0.6};
  const V r = nb::rotate_umat(V{0.3, -1.2, 2.5}, u);
  // Recorded from nanoBragg.c rotate_umat() at commit 455534a.
  EXPECT_DOUBLE_EQ(r.x, -2.468);
  EXPECT_DOUBLE_EQ(r.y, -0.95999999999999996);
  EXPECT_DOUBLE_EQ(r.z, 0.876);
  // Unit vectors pick out the columns, which a transposed product would not.
  expect_vec_near(nb::rotate_umat(V{1, 0, 0}, u), 0.36, -0.8, 0.48, 0.0);
  const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  expect_vec_near(nb::rotate_umat(V{0.3, -1.2, 2.5}, identity), 0.3, -1.2, 2.5, 0.0);
}

TEST(Vec3, FloatInstantiation) {
  // The same templates serve float kernels.
  nb::Vec3<float> v{3.0f, 0.0f, 4.0f};
  EXPECT_EQ(nb::unitize(v), 5.0f);
  EXPECT_FLOAT_EQ(v.x, 0.6f);
  const nb::Vec3<float> r = nb::rotate_axis(nb::Vec3<float>{1, 0, 0}, nb::Vec3<float>{0, 0, 1}, float(M_PI / 2));
  EXPECT_NEAR(r.y, 1.0f, 1e-6f);
}
