/// Vec3 and the vector and rotation helpers of nanoBragg.c, with its exact operation order
/// (dot products left to right, Rodrigues as written in rotate_axis) so results match bit for bit.
#pragma once
#include <cmath>
#include "hd.hpp"

namespace nanobragg {

template <typename Real>
struct Vec3 {
  Real x, y, z;
};

template <typename Real>
NANOBRAGG_HD inline Real dot(const Vec3<Real>& a, const Vec3<Real>& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

/// Ports nanoBragg.c cross_product().
template <typename Real>
NANOBRAGG_HD inline Vec3<Real> cross(const Vec3<Real>& a, const Vec3<Real>& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

template <typename Real>
NANOBRAGG_HD inline Real magnitude(const Vec3<Real>& v) {
  return sqrt(v.x * v.x + v.y * v.y + v.z * v.z);
}

template <typename Real>
NANOBRAGG_HD inline Vec3<Real> scale(const Vec3<Real>& v, Real s) {
  return {s * v.x, s * v.y, s * v.z};
}

/// Makes v a unit vector in place and returns its former length; a zero vector stays zero.
/// Ports nanoBragg.c unitize().
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real unitize(Vec3<Real>& v) {
  const Real mag = magnitude(v);
  if (mag != Real(0)) {
    v = {v.x / mag, v.y / mag, v.z / mag};
  } else {
    v = {Real(0), Real(0), Real(0)};
  }
  return mag;
}

/// Rotation about lab x, then y, then z (radians); a zero angle is skipped exactly.
/// Ports nanoBragg.c rotate().
template <typename Real>
NANOBRAGG_HD inline Vec3<Real> rotate_xyz(const Vec3<Real>& v, Real phix, Real phiy, Real phiz) {
  Real nx = v.x, ny = v.y, nz = v.z;
  if (phix != Real(0)) {
    const Real ryy = cos(phix), ryz = -sin(phix), rzy = sin(phix), rzz = cos(phix);
    const Real ry = ny * ryy + nz * ryz;
    const Real rz = ny * rzy + nz * rzz;
    ny = ry;
    nz = rz;
  }
  if (phiy != Real(0)) {
    const Real rxx = cos(phiy), rxy = Real(0), rxz = sin(phiy);
    const Real rzx = -sin(phiy), rzy = Real(0), rzz = cos(phiy);
    const Real rx = nx * rxx + ny * rxy + nz * rxz;
    const Real rz = nx * rzx + ny * rzy + nz * rzz;
    nx = rx;
    nz = rz;
  }
  if (phiz != Real(0)) {
    const Real rxx = cos(phiz), rxy = -sin(phiz);
    const Real ryx = sin(phiz), ryy = cos(phiz);
    const Real rx = nx * rxx + ny * rxy;
    const Real ry = nx * ryx + ny * ryy;
    nx = rx;
    ny = ry;
  }
  return {nx, ny, nz};
}

/// Right-handed rotation of v about the unit vector axis by phi (radians), Rodrigues' formula.
/// Ports nanoBragg.c rotate_axis().
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Vec3<Real> rotate_axis(const Vec3<Real>& v, const Vec3<Real>& axis, Real phi) {
  const Real sinphi = sin(phi);
  const Real cosphi = cos(phi);
  const Real d = (axis.x * v.x + axis.y * v.y + axis.z * v.z) * (Real(1) - cosphi);
  return {axis.x * d + v.x * cosphi + (-axis.z * v.y + axis.y * v.z) * sinphi,
          axis.y * d + v.y * cosphi + (+axis.z * v.x - axis.x * v.z) * sinphi,
          axis.z * d + v.z * cosphi + (-axis.y * v.x + axis.x * v.y) * sinphi};
}

/// A flat detector position bent onto the sphere of radius distance about the sample, as
/// nanoBragg.c's -curved_det (and nonBragg.c's) does it: the lab y and z of the flat position are
/// taken as arc lengths about sdet and fdet from distance along the beam.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Vec3<Real> curved_detector_position(const Vec3<Real>& pos, Real distance,
                                                                       const Vec3<Real>& beam, const Vec3<Real>& sdet,
                                                                       const Vec3<Real>& fdet) {
  const Vec3<Real> v = {distance * beam.x, distance * beam.y, distance * beam.z};
  const Vec3<Real> w = rotate_axis(v, sdet, pos.y / distance);
  return rotate_axis(w, fdet, pos.z / distance);
}

/// v' = U v with U row-major (9 values). Ports nanoBragg.c rotate_umat().
template <typename Real>
NANOBRAGG_HD inline Vec3<Real> rotate_umat(const Vec3<Real>& v, const Real* u) {
  return {u[0] * v.x + u[1] * v.y + u[2] * v.z,
          u[3] * v.x + u[4] * v.y + u[5] * v.z,
          u[6] * v.x + u[7] * v.y + u[8] * v.z};
}

}  // namespace nanobragg
