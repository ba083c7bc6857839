/// Kahn polarization factor of nanoBragg.c polarization_factor() (L4053-L4095).
#pragma once
#include <cmath>
#include "hd.hpp"
#include "vec3.hpp"

namespace nanobragg {

/// The factor for K == 0, 0.5 (1 + cos^2 2theta), from an already unit incident direction; like
/// polarization_factor() it re-normalizes the diffracted vector in place. Free of atan2/cos, so
/// loops over it vectorize.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real unpolarized_factor(const Vec3<Real>& unit_incident, Vec3<Real>& diffracted) {
  unitize(diffracted);
  const Real cos2theta = dot(unit_incident, diffracted);
  return Real(0.5) * (Real(1) + cos2theta * cos2theta);
}

/// Polarization factor for Kahn factor K, incident and diffracted directions and the E-vector axis.
/// Like the C it re-normalizes all three vectors in place (later sources see the re-normalized
/// diffracted vector, which can differ from the original in the last bit).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real polarization_factor(Real kahn, Vec3<Real>& incident, Vec3<Real>& diffracted,
                                                            Vec3<Real>& axis) {
  unitize(incident);
  unitize(diffracted);
  unitize(axis);
  const Real cos2theta = dot(incident, diffracted);
  const Real cos2theta_sqr = cos2theta * cos2theta;
  const Real sin2theta_sqr = Real(1) - cos2theta_sqr;
  Real psi = Real(0);
  if (kahn != Real(0)) {
    Vec3<Real> b_in = cross(axis, incident);
    unitize(b_in);
    Vec3<Real> e_in = cross(incident, b_in);
    unitize(e_in);
    const Real e_out = dot(diffracted, e_in);
    const Real b_out = dot(diffracted, b_in);
    psi = -atan2(b_out, e_out);
  }
  return Real(0.5) * (Real(1) + cos2theta_sqr - kahn * cos(Real(2) * psi) * sin2theta_sqr);
}

}  // namespace nanobragg
