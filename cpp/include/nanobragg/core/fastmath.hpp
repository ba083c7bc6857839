/// Branch-free, vectorizable replacements for the libm calls of the hot loop: sin(pi x) by a
/// polynomial after exact range reduction, and ceil(x - 0.5) without a library call. They differ
/// from libm in the last bits only (well inside the 1e-6 parity tolerance).
#pragma once
#include <cmath>
#include "hd.hpp"

namespace nanobragg {

/// sin(pi r) for |r| <= 0.5: the Taylor series of sin(pi r) in r, truncated where the next term
/// is below 1e-18 (double) or 1e-9 (float), evaluated by Estrin's scheme (a short dependency
/// chain, so several evaluations overlap in the pipeline).
template <typename Real>
NANOBRAGG_HD NANOBRAGG_FORCEINLINE Real sinpi_reduced(Real r) {
  const Real z = r * r;
  const Real z2 = z * z;
  const Real z4 = z2 * z2;
  if (sizeof(Real) == sizeof(float)) {
    const Real p01 = Real(3.141592653589793115998e+00) + Real(-5.167712780049970255902e+00) * z;
    const Real p23 = Real(2.550164039877345523166e+00) + Real(-5.992645293207921053380e-01) * z;
    const Real p45 = Real(8.214588661112823264610e-02) + Real(-7.370430945714350444431e-03) * z;
    const Real p67 = Real(4.663028057676125537161e-04) + Real(-2.191535344783021729224e-05) * z;
    return r * ((p01 + p23 * z2) + (p45 + p67 * z2) * z4);
  }
  const Real z8 = z4 * z4;
  const Real p01 = Real(3.141592653589793115998e+00) + Real(-5.167712780049970255902e+00) * z;
  const Real p23 = Real(2.550164039877345523166e+00) + Real(-5.992645293207921053380e-01) * z;
  const Real p45 = Real(8.214588661112823264610e-02) + Real(-7.370430945714350444431e-03) * z;
  const Real p67 = Real(4.663028057676125537161e-04) + Real(-2.191535344783021729224e-05) * z;
  const Real p89 = Real(7.952054001475512611129e-07) + Real(-2.294842899726987303644e-08) * z;
  const Real p1011 = Real(5.392664662608128951669e-10) + Real(-1.051847171693206511588e-11) * z;
  return r * (((p01 + p23 * z2) + (p45 + p67 * z2) * z4) + (p89 + p1011 * z2) * z8);
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

}  // namespace nanobragg
