/// Lattice (crystal-shape) transforms: sincg for a parallelepiped, sinc3 for a sphere,
/// and the Gaussian and top-hat spot shapes. Ports the F_latt block of nanoBragg.c (L2821-L2868).
#pragma once
#include <cmath>
#include "hd.hpp"
#include "vec3.hpp"

namespace nanobragg {

enum class CrystalShape : int { Square = 0, Round = 1, Gauss = 2, Tophat = 3 };

/// sin(N x)/sin(x), equal to N at x == 0. Ports nanoBragg.c sincg().
template <typename Real>
NANOBRAGG_HD inline Real sincg(Real x, Real n) {
  if (x == Real(0)) return n;
  return sin(x * n) / sin(x);
}

/// Fourier transform of a sphere, 3 (sin x / x - cos x) / x^2, equal to 1 at x == 0. Ports sinc3().
template <typename Real>
NANOBRAGG_HD inline Real sinc3(Real x) {
  if (x == Real(0)) return Real(1);
  return Real(3) * (sin(x) / x - cos(x)) / (x * x);
}

/// Everything the lattice factor needs besides the Miller indices.
template <typename Real>
struct LatticeParams {
  CrystalShape shape;
  Real Na, Nb, Nc, fudge;
  /// Reciprocal vectors in 1/Angstrom of the unrotated crystal: nanoBragg measures the distance
  /// to the nearest node with them, whatever phi and mosaic rotation apply (BEHAVIOUR.md Q7).
  Vec3<Real> a_star, b_star, c_star;
};

/// Lattice factor F_latt for fractional indices (h, k, l) and their nearest integers (h0, k0, l0).
template <typename Real>
NANOBRAGG_HD inline Real lattice_factor(const LatticeParams<Real>& p, Real h, Real k, Real l, int h0,
                                        int k0, int l0) {
  const Real pi = Real(M_PI);
  if (p.shape == CrystalShape::Square) {
    Real f = Real(1);
    if (p.Na > Real(1)) f *= sincg(pi * h, p.Na);
    if (p.Nb > Real(1)) f *= sincg(pi * k, p.Nb);
    if (p.Nc > Real(1)) f *= sincg(pi * l, p.Nc);
    return f;
  }
  const Real dh = h - Real(h0), dk = k - Real(k0), dl = l - Real(l0);
  if (p.shape == CrystalShape::Round) {
    const Real hrad_sqr = dh * dh * p.Na * p.Na + dk * dk * p.Nb * p.Nb + dl * dl * p.Nc * p.Nc;
    return p.Na * p.Nb * p.Nc * Real(0.723601254558268) * sinc3(pi * sqrt(hrad_sqr * p.fudge));
  }
  const Real dx = dh * p.a_star.x + dk * p.b_star.x + dl * p.c_star.x;
  const Real dy = dh * p.a_star.y + dk * p.b_star.y + dl * p.c_star.y;
  const Real dz = dh * p.a_star.z + dk * p.b_star.z + dl * p.c_star.z;
  const Real rad_star_sqr = (dx * dx + dy * dy + dz * dz) * p.Na * p.Na * p.Nb * p.Nb * p.Nc * p.Nc;
  if (p.shape == CrystalShape::Gauss) {
    return p.Na * p.Nb * p.Nc * exp(-(rad_star_sqr / Real(0.63) * p.fudge));
  }
  return (rad_star_sqr * p.fudge < Real(0.3969)) ? p.Na * p.Nb * p.Nc : Real(0);
}

}  // namespace nanobragg
