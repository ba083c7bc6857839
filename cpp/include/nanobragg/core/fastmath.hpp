/// Branch-free, vectorizable replacements for the libm calls of the hot loop: sin(pi x) by a
/// polynomial after exact range reduction, and ceil(x - 0.5) without a library call. They differ
/// from libm in the last bits only (well inside the 1e-6 parity tolerance).
#pragma once
#include <cmath>
#include "hd.hpp"

namespace nanobragg {

/// sin(pi r) for |r| <= 0.5 as r * P(r^2): P's coefficients are a near-minimax fit of
/// sin(pi r)/r on that range in relative error (least squares on Chebyshev nodes at 50 digits),
/// degree 15 in double (error <= 3.4e-16, rounding level) and 11 in float (<= 2e-7), evaluated by
/// Estrin's scheme (a short dependency chain, so several evaluations overlap in the pipeline).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real sinpi_reduced(Real r) {
  const Real z = r * r;
  const Real z2 = z * z;
  const Real z4 = z2 * z2;
  if (sizeof(Real) == sizeof(float)) {
    const Real p01 = Real(3.141592653523149339703e+00) + Real(-5.167712762079520200046e+00) * z;
    const Real p23 = Real(2.550163239216353733737e+00) + Real(-5.992513182284247393631e-01) * z;
    const Real p45 = Real(8.204642605209655376028e-02) + Real(-7.022080937295167195239e-03) * z;
    return r * ((p01 + p23 * z2) + p45 * z4);
  }
  const Real p01 = Real(3.141592653589792791042e+00) + Real(-5.167712780049752267819e+00) * z;
  const Real p23 = Real(2.550164039859757949580e+00) + Real(-5.992645287752849441150e-01) * z;
  const Real p45 = Real(8.214587825182912014304e-02) + Real(-7.370361044587663853833e-03) * z;
  const Real p67 = Real(4.659775396674573522440e-04) + Real(-2.112286597492681552635e-05) * z;
  return r * ((p01 + p23 * z2) + (p45 + p67 * z2) * z4);
}

/// Nearest integer with ties going down, i.e. ceil(x - 0.5) as nanoBragg computes Miller indices,
/// as a floating-point value and without a library call: adding and subtracting 1.5 * 2^52
/// (2^23 for float) rounds to nearest-even, then exact ties are moved down. Valid for |x| < 2^51
/// (2^22); beyond that no detector pixel is meaningful.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real round_half_down(Real x) {
  const Real magic = sizeof(Real) == sizeof(float) ? Real(12582912.0) : Real(6755399441055744.0);
  Real n = (x + magic) - magic;
  n -= Real(n - x == Real(0.5));
  return n;
}

/// |sin(pi u)| up to sign for moderate u (the sign is (-1)^round(u), which callers square away).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real sinpi_unsigned(Real u) {
  return sinpi_reduced(u - round_half_down(u));
}

/// sin(N pi h)/sin(pi h) for integral N from the offset d = h - h0 to the nearest integer h0:
/// the same value as nanoBragg's sincg(pi h, N) up to its sign, which the intensity squares away.
/// Evaluating from d avoids the cancellation (and the libm calls) of the direct form. Written
/// without branches so loops over it vectorize.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real sincg_offset(Real d, Real n) {
  const Real den = sinpi_reduced(d);
  const Real num = sinpi_unsigned(n * d);
  const Real ratio = num / (den + Real(den == Real(0)));
  return den == Real(0) ? n : ratio;
}

/// The parallelepiped lattice factor sincg(pi h, Na) sincg(pi k, Nb) sincg(pi l, Nc) up to sign,
/// from the nearest integers (h0, k0, l0) held in Real; an axis with N == 1 gives exactly 1.
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real square_lattice_factor(Real h, Real k, Real l, Real h0, Real k0, Real l0,
                                                             Real na, Real nb, Real nc) {
  return sincg_offset(h - h0, na) * sincg_offset(k - k0, nb) * sincg_offset(l - l0, nc);
}

}  // namespace nanobragg
